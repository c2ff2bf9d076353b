//! The admin socket: a Unix socket, `admin.sock` in the data directory,
//! through which the `fieldbook` command asks the running server for a
//! backup or an account change.
//!
//! Only the server's own user and root may use it: the socket file is made
//! readable and writable by its owner alone, and every connection's peer
//! credentials are checked as well (so the moment between creating the
//! socket and setting its mode cannot be used either).
//!
//! One request per connection: a JSON line such as `{"op":"listUsers"}`.
//! The answer is a JSON line, `{"ok":true,"result":…}` or
//! `{"ok":false,"error":"…"}`; for a backup, `{"ok":true}` and then the
//! backup file's bytes until the server closes the connection.

use std::io::Write;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::{backup, users, AdminError, Context};

pub const SOCKET_NAME: &str = "admin.sock";
/// Requests are one short line.
const MAX_REQUEST_BYTES: u64 = 4096;
/// Backup bytes are handed from the blocking writer to the socket in
/// pieces this big, a few at a time, so memory stays flat however large
/// the database.
const CHUNK_BYTES: usize = 256 * 1024;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "camelCase")]
pub enum Request {
    Backup,
    ListUsers,
    Disable { user: String },
    Enable { user: String },
    Delete { user: String },
    Export { user: String },
}

#[derive(Debug, Serialize, Deserialize)]
struct Reply {
    ok: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    result: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

/// The socket of a running server; closed and removed when dropped.
pub struct AdminSocket {
    path: PathBuf,
    task: JoinHandle<()>,
}

impl Drop for AdminSocket {
    fn drop(&mut self) {
        self.task.abort();
        let _ = std::fs::remove_file(&self.path);
    }
}

pub fn socket_path(data_dir: &Path) -> PathBuf {
    data_dir.join(SOCKET_NAME)
}

/// Starts answering on `admin.sock` in `data_dir`. Call it only with the
/// store open: sled's lock then proves no other server uses the directory,
/// so a socket file already there was left by one that was killed.
///
/// Without the socket the server still serves (a data directory whose path
/// is too long for a socket address should not stop Fieldbook); the admin
/// commands then say the database is in use, and the log says why.
pub fn start(ctx: Context, data_dir: &Path) -> Option<AdminSocket> {
    match listen(ctx, data_dir) {
        Ok(socket) => Some(socket),
        Err(err) => {
            tracing::error!(
                error = %err,
                "no admin socket: `fieldbook backup` and `fieldbook user` cannot reach this server"
            );
            None
        }
    }
}

fn listen(ctx: Context, data_dir: &Path) -> std::io::Result<AdminSocket> {
    let path = socket_path(data_dir);
    match std::fs::remove_file(&path) {
        Err(err) if err.kind() != std::io::ErrorKind::NotFound => return Err(err),
        _ => {}
    }
    let listener = UnixListener::bind(&path).map_err(|err| {
        std::io::Error::new(
            err.kind(),
            format!("cannot create the admin socket {}: {err}", path.display()),
        )
    })?;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
    let owner = std::fs::metadata(&path)?.uid();
    let task = tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let allowed = stream
                .peer_cred()
                .is_ok_and(|cred| cred.uid() == owner || cred.uid() == 0);
            if !allowed {
                tracing::warn!("admin socket: refused a connection from another user");
                continue;
            }
            let ctx = ctx.clone();
            tokio::spawn(async move {
                if let Err(err) = handle(ctx, stream).await {
                    tracing::warn!(error = %err, "admin socket: request failed");
                }
            });
        }
    });
    Ok(AdminSocket { path, task })
}

async fn handle(ctx: Context, stream: UnixStream) -> Result<(), AdminError> {
    let (read, mut write) = stream.into_split();
    let mut line = String::new();
    BufReader::new(read.take(MAX_REQUEST_BYTES))
        .read_line(&mut line)
        .await?;
    let request: Request = match serde_json::from_str(&line) {
        Ok(request) => request,
        Err(err) => {
            return send_reply(&mut write, Err(AdminError::Protocol(err.to_string()))).await;
        }
    };
    if let Request::Backup = request {
        return send_backup(ctx, &mut write).await;
    }
    let result = perform(&ctx, request).await;
    send_reply(&mut write, result).await
}

/// Carries out every request but a backup, on the server's context or on a
/// directly opened one.
pub async fn perform(ctx: &Context, request: Request) -> Result<Value, AdminError> {
    fn json(value: impl Serialize) -> Value {
        serde_json::to_value(value).expect("admin replies serialise")
    }
    Ok(match request {
        Request::Backup => {
            return Err(AdminError::Protocol(
                "a backup is streamed, not answered".into(),
            ))
        }
        Request::ListUsers => json(users::list(ctx)?),
        Request::Disable { user } => json(users::disable(ctx, &user).await?),
        Request::Enable { user } => json(users::enable(ctx, &user).await?),
        Request::Delete { user } => json(users::delete(ctx, &user).await?),
        Request::Export { user } => {
            // Reading every document may take a while: off the async threads.
            let ctx = ctx.clone();
            let export = tokio::task::spawn_blocking(move || users::export(&ctx, &user))
                .await
                .map_err(|err| AdminError::Export(err.to_string()))??;
            json(export)
        }
    })
}

async fn send_reply(
    write: &mut (impl AsyncWrite + Unpin),
    result: Result<Value, AdminError>,
) -> Result<(), AdminError> {
    let reply = match result {
        Ok(result) => Reply {
            ok: true,
            result: Some(result),
            error: None,
        },
        Err(err) => Reply {
            ok: false,
            result: None,
            error: Some(err.to_string()),
        },
    };
    let mut line = serde_json::to_vec(&reply).expect("replies serialise");
    line.push(b'\n');
    write.write_all(&line).await?;
    write.shutdown().await?;
    Ok(())
}

/// Takes a backup on a blocking thread and streams it out as it is written.
async fn send_backup(
    ctx: Context,
    write: &mut (impl AsyncWrite + Unpin),
) -> Result<(), AdminError> {
    let (tx, mut rx) = mpsc::channel::<Vec<u8>>(4);
    let store = ctx.store.clone();
    let writer = tokio::task::spawn_blocking(move || {
        let mut out = ChannelWriter {
            tx,
            buffer: Vec::with_capacity(CHUNK_BYTES),
        };
        let summary = backup::write(&store, &mut out)?;
        out.flush()?;
        Ok::<_, backup::BackupError>(summary)
    });
    // The first piece is the file's opening bytes: once it arrives, the
    // backup has begun and the answer is yes.
    let mut started = false;
    while let Some(chunk) = rx.recv().await {
        if !started {
            write.write_all(b"{\"ok\":true}\n").await?;
            started = true;
        }
        write.write_all(&chunk).await?;
    }
    let result = writer
        .await
        .map_err(|err| AdminError::Protocol(err.to_string()))?;
    match result {
        Ok(summary) => {
            write.shutdown().await?;
            tracing::info!(
                records = summary.records,
                users = summary.users,
                documents = summary.documents,
                "backup taken"
            );
            Ok(())
        }
        // Before any byte went out, say why; after, the cut-short file
        // fails its check on the other side.
        Err(err) if !started => send_reply(write, Err(err.into())).await,
        Err(err) => Err(err.into()),
    }
}

/// A `Write` that hands its bytes to an async receiver in large pieces.
struct ChannelWriter {
    tx: mpsc::Sender<Vec<u8>>,
    buffer: Vec<u8>,
}

impl Write for ChannelWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.buffer.extend_from_slice(buf);
        if self.buffer.len() >= CHUNK_BYTES {
            self.flush()?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let chunk = std::mem::replace(&mut self.buffer, Vec::with_capacity(CHUNK_BYTES));
        self.tx.blocking_send(chunk).map_err(|_| {
            std::io::Error::new(
                std::io::ErrorKind::BrokenPipe,
                "the backup's reader went away",
            )
        })
    }
}

// ------------------------------------------------------------------ client

/// Connects to the server running on `data_dir`, or `None` if none is
/// (no socket, or one left behind by a server that was killed).
pub async fn connect(data_dir: &Path) -> Result<Option<UnixStream>, AdminError> {
    match UnixStream::connect(socket_path(data_dir)).await {
        Ok(stream) => Ok(Some(stream)),
        Err(err)
            if matches!(
                err.kind(),
                std::io::ErrorKind::NotFound | std::io::ErrorKind::ConnectionRefused
            ) =>
        {
            Ok(None)
        }
        Err(err) => Err(std::io::Error::new(
            err.kind(),
            format!(
                "cannot open the admin socket in {}: {err} (run this as the server's user or root)",
                data_dir.display()
            ),
        )
        .into()),
    }
}

/// Sends `request` and returns the server's result.
pub async fn call(stream: UnixStream, request: &Request) -> Result<Value, AdminError> {
    let mut reader = send_request(stream, request).await?;
    let reply = read_reply(&mut reader).await?;
    reply
        .result
        .ok_or_else(|| AdminError::Protocol("no result".into()))
}

/// Asks for a backup and copies its bytes into `out` (a plain `Write`:
/// a file, or standard output); returns how many.
pub async fn fetch_backup(stream: UnixStream, out: &mut dyn Write) -> Result<u64, AdminError> {
    let mut reader = send_request(stream, &Request::Backup).await?;
    read_reply(&mut reader).await?;
    let mut buffer = vec![0; CHUNK_BYTES];
    let mut total = 0;
    loop {
        let n = reader.read(&mut buffer).await?;
        if n == 0 {
            return Ok(total);
        }
        out.write_all(&buffer[..n])?;
        total += n as u64;
    }
}

async fn send_request(
    mut stream: UnixStream,
    request: &Request,
) -> Result<BufReader<UnixStream>, AdminError> {
    let mut line = serde_json::to_vec(request).expect("requests serialise");
    line.push(b'\n');
    stream.write_all(&line).await?;
    Ok(BufReader::new(stream))
}

async fn read_reply(
    reader: &mut (impl AsyncBufReadExt + AsyncRead + Unpin),
) -> Result<Reply, AdminError> {
    let mut line = String::new();
    reader.read_line(&mut line).await?;
    if line.is_empty() {
        return Err(AdminError::Protocol(
            "the server closed the connection without answering (see its log)".into(),
        ));
    }
    let reply: Reply =
        serde_json::from_str(&line).map_err(|err| AdminError::Protocol(err.to_string()))?;
    if !reply.ok {
        return Err(AdminError::Remote(reply.error.unwrap_or_default()));
    }
    Ok(reply)
}

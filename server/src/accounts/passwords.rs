//! Password hashing with Argon2id on one dedicated thread.
//!
//! Each hash needs 19 MiB of working memory and tens of milliseconds of CPU.
//! Run on tokio's growing blocking pool, every thread that ever hashed keeps
//! its own allocator arena of that size, so memory grew with login bursts;
//! one thread keeps it to one, and queues bursts instead of starving sync.

use std::sync::mpsc;
use std::sync::OnceLock;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use tokio::sync::oneshot;

#[derive(Debug, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct HashError(String);

enum Job {
    Hash {
        password: String,
        reply: oneshot::Sender<Result<String, HashError>>,
    },
    Verify {
        password: String,
        hash: String,
        reply: oneshot::Sender<Result<bool, HashError>>,
    },
}

fn worker() -> &'static mpsc::Sender<Job> {
    static WORKER: OnceLock<mpsc::Sender<Job>> = OnceLock::new();
    WORKER.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("fieldbook-argon2".into())
            .spawn(move || {
                for job in rx {
                    match job {
                        Job::Hash { password, reply } => {
                            let _ = reply.send(hash_now(&password));
                        }
                        Job::Verify {
                            password,
                            hash,
                            reply,
                        } => {
                            let _ = reply.send(verify_now(&password, &hash));
                        }
                    }
                }
            })
            .expect("starting the password hashing thread");
        tx
    })
}

fn hash_now(password: &str) -> Result<String, HashError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|err| HashError(err.to_string()))
}

fn verify_now(password: &str, hash: &str) -> Result<bool, HashError> {
    let parsed = PasswordHash::new(hash).map_err(|err| HashError(err.to_string()))?;
    Ok(Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok())
}

/// A PHC-format Argon2id hash of `password` with a fresh salt.
pub async fn hash(password: String) -> Result<String, HashError> {
    let (reply, answer) = oneshot::channel();
    worker()
        .send(Job::Hash { password, reply })
        .map_err(|_| HashError("hashing thread stopped".into()))?;
    answer
        .await
        .map_err(|_| HashError("hashing thread stopped".into()))?
}

pub async fn verify(password: String, hash: String) -> Result<bool, HashError> {
    let (reply, answer) = oneshot::channel();
    worker()
        .send(Job::Verify {
            password,
            hash,
            reply,
        })
        .map_err(|_| HashError("hashing thread stopped".into()))?;
    answer
        .await
        .map_err(|_| HashError("hashing thread stopped".into()))?
}

/// A hash of a random password, to verify against when the account does
/// not exist so the answer takes as long as for a real one.
pub fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        let mut random = [0u8; 32];
        getrandom::fill(&mut random).expect("the operating system provides randomness");
        hash_now(&hex::encode(random)).expect("hashing a random password")
    })
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn hashes_verify_only_the_right_password() {
        let hash = super::hash("a long password".into()).await.unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(super::verify("a long password".into(), hash.clone())
            .await
            .unwrap());
        assert!(!super::verify("another password".into(), hash)
            .await
            .unwrap());
    }
}

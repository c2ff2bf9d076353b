//! User accounts and their devices: registration, password login (Argon2id),
//! device tokens (random, stored only as SHA-256 hashes) and revocation.
//! Each login is a device; its token authenticates both the browser's session
//! cookie and other clients' bearer header.

pub mod passwords;
pub mod rate_limit;
pub mod shared_list;

use std::sync::Arc;
use std::time::Duration;

use automerge::transaction::Transactable;
use automerge::{Automerge, ObjType, ROOT};
use fieldbook_shared::entry::{ROOT_SCHEMA_VERSION, ROOT_TYPE};
use fieldbook_shared::DocumentId;
use serde::{Deserialize, Serialize};

use crate::store::keys;
use crate::store::{Batch, Store, StoreError};
use crate::sync::doc_store::{DocStore, DocStoreError};
use crate::tokens::{hash_token, new_id, new_token, random_bytes};
use passwords::HashError;

pub const MIN_PASSWORD_CHARS: usize = 10;
/// Hashing cost grows with length; nobody needs more than this.
pub const MAX_PASSWORD_BYTES: usize = 1024;
const MAX_DEVICE_NAME_CHARS: usize = 100;

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("Enter a valid email address, like name@example.org.")]
    InvalidEmail,
    #[error("Use a password of at least {MIN_PASSWORD_CHARS} characters.")]
    PasswordTooShort,
    #[error("That password is too long.")]
    PasswordTooLong,
    #[error("That password is too easy to guess (it is your email address, one character repeated, or a very common password). Choose another.")]
    PasswordTooGuessable,
    #[error("An account with that email address already exists.")]
    EmailTaken,
    #[error("The email address or password is not right.")]
    BadCredentials,
    #[error("No such device.")]
    DeviceNotFound,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Docs(#[from] DocStoreError),
    #[error(transparent)]
    Hashing(#[from] HashError),
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    pub id: String,
    pub email: String,
    password_hash: String,
    pub root_doc: DocumentId,
    pub created_at: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Device {
    pub id: String,
    pub user_id: String,
    pub name: String,
    pub created_at: String,
    pub last_seen_at: String,
    /// Kept so revoking the device can delete its token directly.
    token_hash: String,
}

pub struct Accounts {
    store: Arc<dyn Store>,
    docs: DocStore,
    /// A device unseen for longer than this must sign in again.
    session_idle_timeout: Option<Duration>,
}

impl Accounts {
    pub fn new(store: Arc<dyn Store>, docs: DocStore) -> Self {
        Self {
            store,
            docs,
            session_idle_timeout: None,
        }
    }

    /// Sessions (devices) not seen for `timeout` stop working and are removed.
    pub fn with_session_idle_timeout(mut self, timeout: Duration) -> Self {
        self.session_idle_timeout = Some(timeout);
        self
    }

    /// Creates the account and its root document, durably.
    pub async fn register(&self, email: &str, password: &str) -> Result<User, AccountError> {
        let email = normalise_email(email)?;
        check_password(password, &email)?;
        let password_hash = passwords::hash(password.to_owned()).await?;
        let user = User {
            id: new_id(),
            email: email.clone(),
            password_hash,
            root_doc: DocumentId::from_bytes(random_bytes()),
            created_at: crate::clock::now_rfc3339(),
        };
        // The user record and root document come first, under fresh IDs, so
        // a crash part-way leaves only unreachable records, never an email
        // address that points nowhere.
        self.docs
            .create(&user.root_doc, &user.id, &new_root_document())?;
        self.put_json(&keys::user(&user.id), &user)?;
        if !self
            .store
            .put_if_absent(keys::email(&email).as_bytes(), user.id.as_bytes())?
        {
            self.docs.delete(&user.root_doc, &user.id)?;
            self.store.delete(keys::user(&user.id).as_bytes())?;
            return Err(AccountError::EmailTaken);
        }
        self.store.flush().await?;
        Ok(user)
    }

    /// Checks the password and, if right, creates a device and its token.
    pub async fn login(
        &self,
        email: &str,
        password: &str,
        device_name: Option<&str>,
    ) -> Result<(User, Device, String), AccountError> {
        let user = match normalise_email(email) {
            Ok(email) => self.user_by_email(&email)?,
            Err(_) => None,
        };
        // Verify against a dummy hash for unknown accounts so the reply takes
        // as long either way and does not reveal which emails are registered.
        let hash = user
            .as_ref()
            .map(|user| user.password_hash.clone())
            .unwrap_or_else(|| passwords::dummy_hash().to_owned());
        let password_ok = password.len() <= MAX_PASSWORD_BYTES
            && passwords::verify(password.to_owned(), hash).await?;
        let user = match (user, password_ok) {
            (Some(user), true) => user,
            _ => return Err(AccountError::BadCredentials),
        };
        let token = new_token();
        let token_hash = hash_token(&token);
        let now = crate::clock::now_rfc3339();
        let device = Device {
            id: new_id(),
            user_id: user.id.clone(),
            name: clean_device_name(device_name),
            created_at: now.clone(),
            last_seen_at: now,
            token_hash: token_hash.clone(),
        };
        let mut batch = Batch::default();
        batch.put(keys::device(&device.id), to_json(&device));
        batch.put(keys::token(&token_hash), device.id.clone());
        batch.put(keys::user_device(&user.id, &device.id), Vec::new());
        self.store.apply(batch)?;
        self.store.flush().await?;
        Ok((user, device, token))
    }

    /// The user and device a token belongs to, if it is still valid.
    pub fn authenticate(&self, token: &str) -> Result<Option<(User, Device)>, AccountError> {
        let Some(device_id) = self.store.get(keys::token(&hash_token(token)).as_bytes())? else {
            return Ok(None);
        };
        let device_id = String::from_utf8_lossy(&device_id).into_owned();
        let Some(mut device) = self.get_json::<Device>(&keys::device(&device_id))? else {
            return Ok(None);
        };
        let Some(user) = self.get_json::<User>(&keys::user(&device.user_id))? else {
            return Ok(None);
        };
        if self.expired(&device) {
            self.forget_expired(&device)?;
            return Ok(None);
        }
        self.touch(&mut device)?;
        Ok(Some((user, device)))
    }

    fn expired(&self, device: &Device) -> bool {
        let Some(timeout) = self.session_idle_timeout else {
            return false;
        };
        let idle_millis =
            crate::clock::now_millis() - crate::clock::millis_of_rfc3339(&device.last_seen_at);
        idle_millis > timeout.as_millis() as i64
    }

    /// Removes an expired device and its token (unflushed: after a crash it
    /// is simply found expired again).
    fn forget_expired(&self, device: &Device) -> Result<(), AccountError> {
        let mut batch = Batch::default();
        batch.delete(keys::token(&device.token_hash));
        batch.delete(keys::device(&device.id));
        batch.delete(keys::user_device(&device.user_id, &device.id));
        self.store.apply(batch)?;
        tracing::info!(user = %device.user_id, device = %device.id, "session expired");
        Ok(())
    }

    /// Records when a device was last seen, at most once a minute (unflushed:
    /// losing it in a crash only makes the time a little older).
    fn touch(&self, device: &mut Device) -> Result<(), AccountError> {
        let now = crate::clock::now_millis();
        if now - crate::clock::millis_of_rfc3339(&device.last_seen_at) > 60_000 {
            device.last_seen_at = crate::clock::now_rfc3339();
            self.put_json(&keys::device(&device.id), device)?;
        }
        Ok(())
    }

    pub fn user(&self, user_id: &str) -> Result<Option<User>, AccountError> {
        self.get_json(&keys::user(user_id))
    }

    pub fn devices(&self, user_id: &str) -> Result<Vec<Device>, AccountError> {
        let mut devices = Vec::new();
        for (key, _) in self
            .store
            .scan_prefix(keys::user_devices(user_id).as_bytes())?
        {
            let key = String::from_utf8_lossy(&key);
            let device_id = key.rsplit('/').next().unwrap_or_default();
            if let Some(device) = self.get_json::<Device>(&keys::device(device_id))? {
                devices.push(device);
            }
        }
        devices.sort_by(|a, b| a.created_at.cmp(&b.created_at));
        Ok(devices)
    }

    /// Deletes the device and its token, durably. The caller closes its sockets.
    pub async fn revoke_device(&self, user_id: &str, device_id: &str) -> Result<(), AccountError> {
        let device = self
            .get_json::<Device>(&keys::device(device_id))?
            .filter(|device| device.user_id == user_id)
            .ok_or(AccountError::DeviceNotFound)?;
        let mut batch = Batch::default();
        batch.delete(keys::token(&device.token_hash));
        batch.delete(keys::device(&device.id));
        batch.delete(keys::user_device(user_id, &device.id));
        self.store.apply(batch)?;
        self.store.flush().await?;
        Ok(())
    }

    fn user_by_email(&self, email: &str) -> Result<Option<User>, AccountError> {
        match self.store.get(keys::email(email).as_bytes())? {
            Some(user_id) => self.user(&String::from_utf8_lossy(&user_id)),
            None => Ok(None),
        }
    }

    fn get_json<T: for<'de> Deserialize<'de>>(&self, key: &str) -> Result<Option<T>, AccountError> {
        match self.store.get(key.as_bytes())? {
            Some(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|err| StoreError::new(format!("unreadable record {key}: {err}")).into()),
            None => Ok(None),
        }
    }

    fn put_json<T: Serialize>(&self, key: &str, value: &T) -> Result<(), AccountError> {
        self.store.put(key.as_bytes(), &to_json(value))?;
        Ok(())
    }
}

fn to_json<T: Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).expect("records serialise")
}

/// A user's root document: the list of their entries and their settings.
fn new_root_document() -> Automerge {
    use fieldbook_shared::entry::keys;
    let mut doc = Automerge::new();
    let mut tx = doc.transaction();
    tx.put(ROOT, keys::TYPE, ROOT_TYPE)
        .expect("root map accepts keys");
    tx.put(ROOT, keys::SCHEMA_VERSION, i64::from(ROOT_SCHEMA_VERSION))
        .expect("root map accepts keys");
    tx.put_object(ROOT, keys::ENTRIES, ObjType::Map)
        .expect("root map accepts keys");
    tx.put_object(ROOT, keys::SETTINGS, ObjType::Map)
        .expect("root map accepts keys");
    tx.commit();
    doc
}

/// Lower-cases and checks an email address: one `@`, something before it,
/// a dotted domain after it, no spaces.
pub fn normalise_email(email: &str) -> Result<String, AccountError> {
    let email = email.trim().to_lowercase();
    let valid = email.len() <= 254
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        && match email.split_once('@') {
            Some((local, domain)) => {
                !local.is_empty()
                    && !domain.contains('@')
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
            }
            None => false,
        };
    if valid {
        Ok(email)
    } else {
        Err(AccountError::InvalidEmail)
    }
}

/// The most used passwords of ten or more characters in public breach lists;
/// length alone does not stop these being among the first guessed.
const COMMON_LONG_PASSWORDS: &[&str] = &[
    "1234567890",
    "12345678910",
    "123456789a",
    "0123456789",
    "1q2w3e4r5t",
    "qwertyuiop",
    "qwerty1234",
    "qwerty12345",
    "asdfghjkl1",
    "1qaz2wsx3edc",
    "password12",
    "password123",
    "password1234",
    "passw0rd123",
    "iloveyou12",
    "football123",
    "abcdefghij",
    "abc1234567",
    "letmein123",
    "welcome123",
    "socialwork",
    "socialworker",
];

/// Rules for a new password, in the spirit of NIST SP 800-63B: long enough,
/// not absurdly long (hashing cost), and not trivially guessable; no
/// composition rules (they make passwords harder to remember, not to guess).
fn check_password(password: &str, email: &str) -> Result<(), AccountError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(AccountError::PasswordTooShort);
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(AccountError::PasswordTooLong);
    }
    let lowered = password.trim().to_lowercase();
    let local_part = email.split('@').next().unwrap_or(email);
    let mut chars = lowered.chars();
    let one_repeated = chars.next().is_some_and(|first| chars.all(|c| c == first));
    if lowered == email
        || lowered == local_part
        || one_repeated
        || COMMON_LONG_PASSWORDS.contains(&lowered.as_str())
    {
        return Err(AccountError::PasswordTooGuessable);
    }
    Ok(())
}

fn clean_device_name(name: Option<&str>) -> String {
    let name: String = name
        .unwrap_or("")
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_DEVICE_NAME_CHARS)
        .collect();
    let name = name.trim();
    if name.is_empty() {
        "Unnamed device".to_owned()
    } else {
        name.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(
            normalise_email(" Sam@Example.ORG ").unwrap(),
            "sam@example.org"
        );
        for bad in [
            "",
            "sam",
            "@example.org",
            "sam@",
            "sam@example",
            "s am@example.org",
            "a@b@c.org",
        ] {
            assert!(normalise_email(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn passwords_must_be_long_and_not_guessable() {
        let email = "samantha.jones@example.org";
        assert!(check_password("correct horse battery", email).is_ok());
        assert!(
            check_password("ten chars!", email).is_ok(),
            "exactly the minimum"
        );
        assert!(matches!(
            check_password("nine char", email),
            Err(AccountError::PasswordTooShort)
        ));
        // Counted in characters, not bytes: nine accented letters are short.
        assert!(matches!(
            check_password(&"é".repeat(9), email),
            Err(AccountError::PasswordTooShort)
        ));
        assert!(matches!(
            check_password(&"x".repeat(MAX_PASSWORD_BYTES + 1), email),
            Err(AccountError::PasswordTooLong)
        ));
        for guessable in [
            "Samantha.Jones@example.org",
            "samantha.jones",
            "aaaaaaaaaaaa",
            "Password123",
            "QWERTYUIOP",
        ] {
            assert!(
                matches!(
                    check_password(guessable, email),
                    Err(AccountError::PasswordTooGuessable)
                ),
                "{guessable:?} accepted"
            );
        }
    }

    #[test]
    fn device_names_are_cleaned() {
        assert_eq!(clean_device_name(None), "Unnamed device");
        assert_eq!(clean_device_name(Some("  Phone\u{7}  ")), "Phone");
        assert_eq!(
            clean_device_name(Some(&"x".repeat(500))).len(),
            MAX_DEVICE_NAME_CHARS
        );
    }
}

//! automerge-repo document IDs: 16 random bytes, written as bs58check
//! (base58 of the bytes followed by the first four bytes of their double
//! SHA-256), and as URLs `automerge:<bs58check>`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

const URL_PREFIX: &str = "automerge:";
/// 16 bytes plus a 4-byte checksum never need more than 28 base58 digits;
/// anything much longer is refused before decoding.
const MAX_ENCODED_CHARS: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("document ID is empty")]
    Empty,
    #[error("document ID is too long")]
    TooLong,
    #[error("document ID is not valid base58check")]
    NotBase58Check,
    #[error("document ID must be 16 bytes")]
    WrongLength,
}

#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DocumentId([u8; 16]);

impl DocumentId {
    pub fn from_bytes(bytes: [u8; 16]) -> Self {
        Self(bytes)
    }

    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }

    /// Parses a bare ID or an `automerge:` URL.
    pub fn parse(text: &str) -> Result<Self, IdError> {
        let encoded = text.strip_prefix(URL_PREFIX).unwrap_or(text);
        if encoded.is_empty() {
            return Err(IdError::Empty);
        }
        if encoded.len() > MAX_ENCODED_CHARS {
            return Err(IdError::TooLong);
        }
        let bytes = bs58::decode(encoded)
            .with_check(None)
            .into_vec()
            .map_err(|_| IdError::NotBase58Check)?;
        let bytes: [u8; 16] = bytes.try_into().map_err(|_| IdError::WrongLength)?;
        Ok(Self(bytes))
    }

    pub fn to_url(&self) -> String {
        format!("{URL_PREFIX}{self}")
    }
}

impl fmt::Display for DocumentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&bs58::encode(self.0).with_check().into_string())
    }
}

impl fmt::Debug for DocumentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl FromStr for DocumentId {
    type Err = IdError;

    fn from_str(text: &str) -> Result<Self, IdError> {
        Self::parse(text)
    }
}

impl Serialize for DocumentId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for DocumentId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// URLs from `Repo.create()` in @automerge/automerge-repo 2.5.6, and the
    /// `binaryDocumentId` its `parseAutomergeUrl` returns for them, in hex.
    const VECTORS: [(&str, &str); 2] = [
        (
            "automerge:rbz1S5z2CVx48nJZm4PggB34oZk",
            "3d631f184eb2444b8ab86d55f8667e09",
        ),
        (
            "automerge:4ZZNb22cRgXT4LYmGuD885tPhuH6",
            "ffa120a5c0b345c79d1ac0aec361ad28",
        ),
    ];

    fn hex_bytes(hex: &str) -> [u8; 16] {
        let mut out = [0u8; 16];
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap();
        }
        out
    }

    #[test]
    fn matches_automerge_repo() {
        for (url, hex) in VECTORS {
            let id = DocumentId::parse(url).unwrap();
            assert_eq!(id.as_bytes(), &hex_bytes(hex));
            assert_eq!(id.to_url(), url);
            let bare = url.strip_prefix(URL_PREFIX).unwrap();
            assert_eq!(id.to_string(), bare);
            assert_eq!(format!("{id:?}"), bare);
            assert_eq!(bare.parse::<DocumentId>(), Ok(id));
            assert_eq!(DocumentId::from_bytes(*id.as_bytes()), id);
        }
    }

    #[test]
    fn rejects_bad_ids() {
        assert_eq!(DocumentId::parse(""), Err(IdError::Empty));
        assert_eq!(DocumentId::parse("automerge:"), Err(IdError::Empty));
        assert_eq!(DocumentId::parse(&"1".repeat(65)), Err(IdError::TooLong));
        // Checksum broken by changing one digit.
        assert_eq!(
            DocumentId::parse("rbz1S5z2CVx48nJZm4PggB34oZm"),
            Err(IdError::NotBase58Check)
        );
        assert_eq!(DocumentId::parse("0OIl"), Err(IdError::NotBase58Check));
        let eight_bytes = bs58::encode([1u8; 8]).with_check().into_string();
        assert_eq!(DocumentId::parse(&eight_bytes), Err(IdError::WrongLength));
    }

    #[test]
    fn serde_uses_the_bare_string() {
        let id = DocumentId::parse(VECTORS[0].0).unwrap();
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, "\"rbz1S5z2CVx48nJZm4PggB34oZk\"");
        assert_eq!(serde_json::from_str::<DocumentId>(&json).unwrap(), id);
        assert!(serde_json::from_str::<DocumentId>("\"nope\"").is_err());
    }
}

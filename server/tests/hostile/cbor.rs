//! A CBOR writer for tests, so they can send what our encoder never would:
//! any value in any field, and raw bytes wherever they like.

#[derive(Clone, Debug)]
pub enum V {
    Uint(u64),
    /// -1 - n
    Neg(u64),
    Bytes(Vec<u8>),
    Text(String),
    Array(Vec<V>),
    Map(Vec<(V, V)>),
    Bool(bool),
    Null,
    Undefined,
    Float(f64),
    /// Written as is: broken or hand-made CBOR.
    Raw(Vec<u8>),
}

pub fn text(s: &str) -> V {
    V::Text(s.to_owned())
}

/// A map with text keys.
pub fn map(entries: &[(&str, V)]) -> V {
    V::Map(
        entries
            .iter()
            .map(|(key, value)| (text(key), value.clone()))
            .collect(),
    )
}

/// A major type's head with the shortest argument.
pub fn head(major: u8, n: u64, out: &mut Vec<u8>) {
    let major = major << 5;
    match n {
        0..=23 => out.push(major | n as u8),
        24..=0xff => out.extend([major | 24, n as u8]),
        0x100..=0xffff => {
            out.push(major | 25);
            out.extend((n as u16).to_be_bytes());
        }
        0x1_0000..=0xffff_ffff => {
            out.push(major | 26);
            out.extend((n as u32).to_be_bytes());
        }
        _ => {
            out.push(major | 27);
            out.extend(n.to_be_bytes());
        }
    }
}

impl V {
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.write(&mut out);
        out
    }

    fn write(&self, out: &mut Vec<u8>) {
        match self {
            V::Uint(n) => head(0, *n, out),
            V::Neg(n) => head(1, *n, out),
            V::Bytes(bytes) => {
                head(2, bytes.len() as u64, out);
                out.extend(bytes);
            }
            V::Text(s) => {
                head(3, s.len() as u64, out);
                out.extend(s.as_bytes());
            }
            V::Array(items) => {
                head(4, items.len() as u64, out);
                for item in items {
                    item.write(out);
                }
            }
            V::Map(entries) => {
                head(5, entries.len() as u64, out);
                for (key, value) in entries {
                    key.write(out);
                    value.write(out);
                }
            }
            V::Bool(false) => out.push(0xf4),
            V::Bool(true) => out.push(0xf5),
            V::Null => out.push(0xf6),
            V::Undefined => out.push(0xf7),
            V::Float(f) => {
                out.push(0xfb);
                out.extend(f.to_be_bytes());
            }
            V::Raw(bytes) => out.extend(bytes),
        }
    }
}

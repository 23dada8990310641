//! Tolerant serde building blocks for reading Kubernetes objects and Pulumi outputs.
//!
//! A field keeps its value when it has the expected shape and is dropped otherwise, so a custom
//! resource whose `spec.selector` is a string, or a secret-wrapped `__inputs`, never fails a
//! 200 MB dump. Work with any self-describing deserializer (serde_json, serde-saphyr); values
//! that are not kept are skipped with `IgnoredAny`, without allocating.

use std::fmt;
use std::marker::PhantomData;

use serde::de::value::{MapAccessDeserializer, SeqAccessDeserializer};
use serde::de::{
    Deserialize, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor,
};

fn drain_map<'de, A: MapAccess<'de>>(mut map: A) -> Result<(), A::Error> {
    while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
    Ok(())
}

fn drain_seq<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<(), A::Error> {
    while seq.next_element::<IgnoredAny>()?.is_some() {}
    Ok(())
}

/// A scalar as text (strings, numbers, booleans); anything else is `None`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct Text(pub(super) Option<String>);

impl Text {
    /// The text, if non-empty.
    pub(super) fn take(self) -> Option<String> {
        self.0.filter(|s| !s.is_empty())
    }
}

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Text;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a scalar")
            }
            fn visit_str<E>(self, v: &str) -> Result<Text, E> {
                Ok(Text(Some(v.to_owned())))
            }
            fn visit_string<E>(self, v: String) -> Result<Text, E> {
                Ok(Text(Some(v)))
            }
            fn visit_bool<E>(self, v: bool) -> Result<Text, E> {
                Ok(Text(Some(v.to_string())))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Text, E> {
                Ok(Text(Some(v.to_string())))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Text, E> {
                Ok(Text(Some(v.to_string())))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Text, E> {
                Ok(Text(Some(v.to_string())))
            }
            fn visit_bytes<E>(self, _: &[u8]) -> Result<Text, E> {
                Ok(Text(None))
            }
            fn visit_unit<E>(self) -> Result<Text, E> {
                Ok(Text(None))
            }
            fn visit_none<E>(self) -> Result<Text, E> {
                Ok(Text(None))
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Text, D::Error> {
                Text::deserialize(d)
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Text, A::Error> {
                drain_map(map).map(|()| Text(None))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Text, A::Error> {
                drain_seq(seq).map(|()| Text(None))
            }
        }
        d.deserialize_any(V)
    }
}

/// A boolean (or the strings `true`/`false`); anything else is `None`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Flag(pub(super) Option<bool>);

impl<'de> Deserialize<'de> for Flag {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = Text::deserialize(d)?;
        Ok(Flag(match text.0.as_deref() {
            Some("true") => Some(true),
            Some("false") => Some(false),
            _ => None,
        }))
    }
}

/// A mapping deserialized as `T`; anything else is `None`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Obj<T>(pub(super) Option<T>);

impl<T> Default for Obj<T> {
    fn default() -> Self {
        Self(None)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Obj<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = Obj<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a mapping")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Obj<T>, A::Error> {
                T::deserialize(MapAccessDeserializer::new(map)).map(|t| Obj(Some(t)))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Obj<T>, A::Error> {
                drain_seq(seq).map(|()| Obj(None))
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Obj<T>, D::Error> {
                Obj::deserialize(d)
            }
            fn visit_none<E>(self) -> Result<Obj<T>, E> {
                Ok(Obj(None))
            }
            fn visit_unit<E>(self) -> Result<Obj<T>, E> {
                Ok(Obj(None))
            }
            fn visit_str<E>(self, _: &str) -> Result<Obj<T>, E> {
                Ok(Obj(None))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Obj<T>, E> {
                Ok(Obj(None))
            }
            fn visit_i64<E>(self, _: i64) -> Result<Obj<T>, E> {
                Ok(Obj(None))
            }
            fn visit_u64<E>(self, _: u64) -> Result<Obj<T>, E> {
                Ok(Obj(None))
            }
            fn visit_f64<E>(self, _: f64) -> Result<Obj<T>, E> {
                Ok(Obj(None))
            }
            fn visit_bytes<E>(self, _: &[u8]) -> Result<Obj<T>, E> {
                Ok(Obj(None))
            }
        }
        d.deserialize_any(V(PhantomData))
    }
}

/// A sequence of `T`; anything else is empty.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct List<T>(pub(super) Vec<T>);

impl<T> Default for List<T> {
    fn default() -> Self {
        Self(Vec::new())
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for List<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = List<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a sequence")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<List<T>, A::Error> {
                Vec::<T>::deserialize(SeqAccessDeserializer::new(seq)).map(List)
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<List<T>, A::Error> {
                drain_map(map).map(|()| List(Vec::new()))
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<List<T>, D::Error> {
                List::deserialize(d)
            }
            fn visit_none<E>(self) -> Result<List<T>, E> {
                Ok(List(Vec::new()))
            }
            fn visit_unit<E>(self) -> Result<List<T>, E> {
                Ok(List(Vec::new()))
            }
            fn visit_str<E>(self, _: &str) -> Result<List<T>, E> {
                Ok(List(Vec::new()))
            }
            fn visit_bool<E>(self, _: bool) -> Result<List<T>, E> {
                Ok(List(Vec::new()))
            }
            fn visit_i64<E>(self, _: i64) -> Result<List<T>, E> {
                Ok(List(Vec::new()))
            }
            fn visit_u64<E>(self, _: u64) -> Result<List<T>, E> {
                Ok(List(Vec::new()))
            }
            fn visit_f64<E>(self, _: f64) -> Result<List<T>, E> {
                Ok(List(Vec::new()))
            }
            fn visit_bytes<E>(self, _: &[u8]) -> Result<List<T>, E> {
                Ok(List(Vec::new()))
            }
        }
        d.deserialize_any(V(PhantomData))
    }
}

/// Whether a field was present at all; its value is skipped unread.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Seen(pub(super) bool);

impl<'de> Deserialize<'de> for Seen {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        IgnoredAny::deserialize(d).map(|_| Seen(true))
    }
}

/// A map key, allocated only when `F` keeps it: `Some((key, keep the value))`.
struct FilteredKey<F>(PhantomData<F>);

impl<'de, F: KeyFilter> DeserializeSeed<'de> for FilteredKey<F> {
    type Value = Option<(String, bool)>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        struct V<F>(PhantomData<F>);
        impl<'de, F: KeyFilter> Visitor<'de> for V<F> {
            type Value = Option<(String, bool)>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string key")
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(F::keep(v).map(|value| (v.to_owned(), value)))
            }
            fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
                Ok(F::keep(&v).map(|value| (v, value)))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                drain_map(map).map(|()| None)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
                drain_seq(seq).map(|()| None)
            }
        }
        d.deserialize_any(V::<F>(PhantomData))
    }
}

/// Which entries of a string map to keep.
pub(super) trait KeyFilter {
    /// `Some(true)`: keep key and value; `Some(false)`: keep the key only (value skipped);
    /// `None`: drop the entry.
    fn keep(key: &str) -> Option<bool>;
}

/// Every entry.
#[derive(Debug)]
pub(super) struct AllKeys;

impl KeyFilter for AllKeys {
    fn keep(_: &str) -> Option<bool> {
        Some(true)
    }
}

/// A string → string map, filtered by `F`, in document order (values not kept are empty).
#[derive(Debug)]
pub(super) struct Pairs<F>(pub(super) Vec<(String, String)>, PhantomData<F>);

impl<F> Default for Pairs<F> {
    fn default() -> Self {
        Self(Vec::new(), PhantomData)
    }
}

impl<'de, F: KeyFilter> Deserialize<'de> for Pairs<F> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<F>(PhantomData<F>);
        impl<'de, F: KeyFilter> Visitor<'de> for V<F> {
            type Value = Pairs<F>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string map")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Pairs<F>, A::Error> {
                let mut pairs = Vec::new();
                while let Some(key) = map.next_key_seed(FilteredKey::<F>(PhantomData))? {
                    match key {
                        Some((key, true)) => {
                            let value = map.next_value::<Text>()?;
                            pairs.push((key, value.0.unwrap_or_default()));
                        }
                        Some((key, false)) => {
                            map.next_value::<IgnoredAny>()?;
                            pairs.push((key, String::new()));
                        }
                        None => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(Pairs(pairs, PhantomData))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Pairs<F>, A::Error> {
                drain_seq(seq).map(|()| Pairs::default())
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Pairs<F>, D::Error> {
                Pairs::deserialize(d)
            }
            fn visit_none<E>(self) -> Result<Pairs<F>, E> {
                Ok(Pairs::default())
            }
            fn visit_unit<E>(self) -> Result<Pairs<F>, E> {
                Ok(Pairs::default())
            }
            fn visit_str<E>(self, _: &str) -> Result<Pairs<F>, E> {
                Ok(Pairs::default())
            }
            fn visit_bool<E>(self, _: bool) -> Result<Pairs<F>, E> {
                Ok(Pairs::default())
            }
            fn visit_i64<E>(self, _: i64) -> Result<Pairs<F>, E> {
                Ok(Pairs::default())
            }
            fn visit_u64<E>(self, _: u64) -> Result<Pairs<F>, E> {
                Ok(Pairs::default())
            }
            fn visit_f64<E>(self, _: f64) -> Result<Pairs<F>, E> {
                Ok(Pairs::default())
            }
        }
        d.deserialize_any(V(PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Default, Debug)]
    #[serde(default)]
    struct Probe {
        name: Text,
        on: Flag,
        inner: Obj<Inner>,
        list: List<Text>,
        labels: Pairs<AllKeys>,
    }

    #[derive(serde::Deserialize, Default, Debug)]
    #[serde(default)]
    struct Inner {
        x: Text,
    }

    #[test]
    fn keeps_expected_shapes() {
        let p: Probe = serde_json::from_str(
            r#"{"name":"a","on":true,"inner":{"x":1},"list":["a",2,{"z":1}],"labels":{"k":"v","n":3},"other":[1,{"a":2}]}"#,
        )
        .unwrap();
        assert_eq!(p.name.0.as_deref(), Some("a"));
        assert_eq!(p.on.0, Some(true));
        assert_eq!(p.inner.0.unwrap().x.0.as_deref(), Some("1"));
        assert_eq!(
            p.list.0,
            vec![Text(Some("a".into())), Text(Some("2".into())), Text(None)]
        );
        assert_eq!(
            p.labels.0,
            vec![("k".into(), "v".into()), ("n".into(), "3".into())]
        );
    }

    #[test]
    fn drops_unexpected_shapes() {
        let p: Probe = serde_json::from_str(
            r#"{"name":{"a":[1,2]},"on":"maybe","inner":"str","list":{"a":1},"labels":[1,2]}"#,
        )
        .unwrap();
        assert_eq!(p.name.0, None);
        assert_eq!(p.on.0, None);
        assert!(p.inner.0.is_none());
        assert!(p.list.0.is_empty());
        assert!(p.labels.0.is_empty());
        let y: Probe =
            serde_saphyr::from_str("name: 0123x\non: true\ninner: [1]\nlist: 3\n").unwrap();
        assert_eq!(y.name.0.as_deref(), Some("0123x"));
        assert_eq!(y.on.0, Some(true));
        assert!(y.inner.0.is_none());
        assert!(y.list.0.is_empty());
    }
}

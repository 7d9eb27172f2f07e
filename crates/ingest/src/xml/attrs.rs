//! A sample element's attributes: which JMeter attribute a name is, and one attribute value
//! turned into its field (numbers parsed and range-checked, text kept as given). Both readers of
//! sample elements use this — quick-xml's attribute iterator for elements with children, and the
//! flat fast path ([`super::flat`]) — so an attribute means the same whichever read it.

use std::borrow::Cow;

use loadlake_schema::RangeError;

/// A bad attribute: its name and why.
pub(super) type AttrError = (String, String);

/// The sample attributes JMeter writes, in its order (`SampleResultConverter.setAttributes` in
/// apache/jmeter, `src/core/src/main/java/org/apache/jmeter/save/converters/`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Known {
    T,
    It,
    Lt,
    Ct,
    Ts,
    S,
    Lb,
    Rc,
    Rs,
    Rm,
    Tn,
    Dt,
    De,
    By,
    Sby,
    Sc,
    Ec,
    Ng,
    Na,
    Hn,
}

impl Known {
    /// Every known attribute, in JMeter's order; its position is its bit in a seen-mask.
    pub(super) const ALL: [Known; 20] = [
        Known::T,
        Known::It,
        Known::Lt,
        Known::Ct,
        Known::Ts,
        Known::S,
        Known::Lb,
        Known::Rc,
        Known::Rs,
        Known::Rm,
        Known::Tn,
        Known::Dt,
        Known::De,
        Known::By,
        Known::Sby,
        Known::Sc,
        Known::Ec,
        Known::Ng,
        Known::Na,
        Known::Hn,
    ];

    /// The attribute called `name`, if JMeter writes one by that name (one `match`: this runs
    /// for every attribute of every sample).
    pub(super) fn of(name: &str) -> Option<Known> {
        Known::of_bytes(name.as_bytes())
    }

    /// [`Known::of`] the raw bytes of a name (the fast path reads names before their text is
    /// checked to be UTF-8; every known name is ASCII).
    pub(super) fn of_bytes(name: &[u8]) -> Option<Known> {
        // Byte patterns: a length test and a few byte compares, no string comparison call.
        Some(match *name {
            [b't'] => Known::T,
            [b'i', b't'] => Known::It,
            [b'l', b't'] => Known::Lt,
            [b'c', b't'] => Known::Ct,
            [b't', b's'] => Known::Ts,
            [b's'] => Known::S,
            [b'l', b'b'] => Known::Lb,
            [b'r', b'c'] => Known::Rc,
            [b'r', b's'] => Known::Rs,
            [b'r', b'm'] => Known::Rm,
            [b't', b'n'] => Known::Tn,
            [b'd', b't'] => Known::Dt,
            [b'd', b'e'] => Known::De,
            [b'b', b'y'] => Known::By,
            [b's', b'b', b'y'] => Known::Sby,
            [b's', b'c'] => Known::Sc,
            [b'e', b'c'] => Known::Ec,
            [b'n', b'g'] => Known::Ng,
            [b'n', b'a'] => Known::Na,
            [b'h', b'n'] => Known::Hn,
            _ => return None,
        })
    }

    /// The attribute's name in the file.
    pub(super) fn name(self) -> &'static str {
        match self {
            Known::T => "t",
            Known::It => "it",
            Known::Lt => "lt",
            Known::Ct => "ct",
            Known::Ts => "ts",
            Known::S => "s",
            Known::Lb => "lb",
            Known::Rc => "rc",
            Known::Rs => "rs",
            Known::Rm => "rm",
            Known::Tn => "tn",
            Known::Dt => "dt",
            Known::De => "de",
            Known::By => "by",
            Known::Sby => "sby",
            Known::Sc => "sc",
            Known::Ec => "ec",
            Known::Ng => "ng",
            Known::Na => "na",
            Known::Hn => "hn",
        }
    }

    /// Whether the attribute's value is text, kept as given ([`SampleAttrs::set_text`]); the
    /// others are numbers or the success flag ([`SampleAttrs::set_number`]).
    pub(super) fn is_text(self) -> bool {
        matches!(
            self,
            Known::Lb
                | Known::Rc
                | Known::Rs
                | Known::Rm
                | Known::Tn
                | Known::Dt
                | Known::De
                | Known::Hn
        )
    }

    /// The attribute's bit in a seen-mask.
    pub(super) fn bit(self) -> u32 {
        1 << (self as u32)
    }
}

/// The attributes of one sample element, borrowed from the document where their values need
/// no unescaping.
#[derive(Debug, Clone)]
pub(super) struct SampleAttrs<'a> {
    pub(super) ts: Option<i64>,
    pub(super) t: Option<i64>,
    pub(super) it: Option<i64>,
    pub(super) lt: Option<i64>,
    pub(super) ct: Option<i64>,
    pub(super) s: bool,
    pub(super) lb: Cow<'a, str>,
    pub(super) rc: Option<Cow<'a, str>>,
    pub(super) rm: Option<Cow<'a, str>>,
    pub(super) tn: Option<Cow<'a, str>>,
    pub(super) dt: Option<Cow<'a, str>>,
    pub(super) de: Option<Cow<'a, str>>,
    pub(super) by: Option<i64>,
    pub(super) sby: Option<i64>,
    pub(super) sc: Option<i32>,
    pub(super) ec: Option<i32>,
    pub(super) ng: Option<i32>,
    pub(super) na: Option<i32>,
    pub(super) hn: Option<Cow<'a, str>>,
    /// Sample variables (attributes JMeter does not define), in document order.
    pub(super) vars: Vec<(Cow<'a, str>, Cow<'a, str>)>,
}

impl Default for SampleAttrs<'_> {
    /// No attribute given: successful (JMeter's default for a missing `s`), everything else
    /// unrecorded.
    fn default() -> Self {
        SampleAttrs {
            ts: None,
            t: None,
            it: None,
            lt: None,
            ct: None,
            s: true,
            lb: Cow::Borrowed(""),
            rc: None,
            rm: None,
            tn: None,
            dt: None,
            de: None,
            by: None,
            sby: None,
            sc: None,
            ec: None,
            ng: None,
            na: None,
            hn: None,
            vars: Vec::new(),
        }
    }
}

/// A whole number, `None` when empty.
fn int(key: Known, v: &[u8]) -> Result<Option<i64>, AttrError> {
    if v.is_empty() {
        return Ok(None);
    }
    crate::csv::parse_i64(v).map(Some).ok_or_else(|| {
        (
            key.name().to_string(),
            format!("'{}' is not a whole number", String::from_utf8_lossy(v)),
        )
    })
}

/// A whole number in i32's range, `None` when empty.
fn int32(key: Known, v: &[u8]) -> Result<Option<i32>, AttrError> {
    int(key, v)?
        .map(|n| {
            i32::try_from(n).map_err(|_| (key.name().to_string(), format!("{n} is out of range")))
        })
        .transpose()
}

/// A time or duration within the plausible range every way in shares
/// (loadlake_schema::range), `None` when empty.
fn ranged(
    key: Known,
    v: &[u8],
    check: fn(i64) -> Result<i64, RangeError>,
) -> Result<Option<i64>, AttrError> {
    int(key, v)?
        .map(|n| check(n).map_err(|e| (key.name().to_string(), e.to_string())))
        .transpose()
}

/// Text that means "not recorded" when empty.
fn non_empty(v: Cow<'_, str>) -> Option<Cow<'_, str>> {
    (!v.is_empty()).then_some(v)
}

impl<'a> SampleAttrs<'a> {
    /// Sets the known attribute `key` from its (unescaped) value. A repeated attribute's last
    /// value wins.
    pub(super) fn set(&mut self, key: Known, value: Cow<'a, str>) -> Result<(), AttrError> {
        if key.is_text() {
            self.set_text(key, value);
            Ok(())
        } else {
            self.set_number(key, value.as_bytes())
        }
    }

    /// Sets a number or the success flag (a `key` that is not [`Known::is_text`]) from its
    /// value's bytes: the one home of the rules for them. A text `key` is ignored.
    pub(super) fn set_number(&mut self, key: Known, value: &[u8]) -> Result<(), AttrError> {
        use loadlake_schema::{check_duration, check_ts};
        match key {
            Known::T => self.t = ranged(key, value, check_duration)?,
            Known::It => self.it = ranged(key, value, check_duration)?,
            Known::Lt => self.lt = ranged(key, value, check_duration)?,
            Known::Ct => self.ct = ranged(key, value, check_duration)?,
            Known::Ts => self.ts = ranged(key, value, check_ts)?,
            Known::S => {
                self.s = match value {
                    b"true" => true,
                    b"false" => false,
                    other => {
                        return Err((
                            "s".into(),
                            format!("'{}' is not true or false", String::from_utf8_lossy(other)),
                        ));
                    }
                }
            }
            Known::By => self.by = int(key, value)?,
            Known::Sby => self.sby = int(key, value)?,
            Known::Sc => self.sc = int32(key, value)?,
            Known::Ec => self.ec = int32(key, value)?,
            Known::Ng => self.ng = int32(key, value)?,
            Known::Na => self.na = int32(key, value)?,
            Known::Lb
            | Known::Rc
            | Known::Rs
            | Known::Rm
            | Known::Tn
            | Known::Dt
            | Known::De
            | Known::Hn => {}
        }
        Ok(())
    }

    /// Sets a text attribute (a `key` that is [`Known::is_text`]) as given; `rc` and `rs` are
    /// the same field. A number `key` is ignored.
    pub(super) fn set_text(&mut self, key: Known, value: Cow<'a, str>) {
        match key {
            Known::Lb => self.lb = value,
            Known::Rc | Known::Rs => self.rc = Some(value),
            Known::Rm => self.rm = Some(value),
            Known::Tn => self.tn = Some(value),
            Known::Dt => self.dt = non_empty(value),
            Known::De => self.de = non_empty(value),
            Known::Hn => self.hn = non_empty(value),
            Known::T
            | Known::It
            | Known::Lt
            | Known::Ct
            | Known::Ts
            | Known::S
            | Known::By
            | Known::Sby
            | Known::Sc
            | Known::Ec
            | Known::Ng
            | Known::Na => {}
        }
    }

    /// The same attributes owning their text, to outlive the document buffer.
    pub(super) fn into_owned(self) -> SampleAttrs<'static> {
        let own = |v: Option<Cow<'_, str>>| v.map(|v| Cow::Owned(v.into_owned()));
        SampleAttrs {
            ts: self.ts,
            t: self.t,
            it: self.it,
            lt: self.lt,
            ct: self.ct,
            s: self.s,
            lb: Cow::Owned(self.lb.into_owned()),
            rc: own(self.rc),
            rm: own(self.rm),
            tn: own(self.tn),
            dt: own(self.dt),
            de: own(self.de),
            by: self.by,
            sby: self.sby,
            sc: self.sc,
            ec: self.ec,
            ng: self.ng,
            na: self.na,
            hn: own(self.hn),
            vars: self
                .vars
                .into_iter()
                .map(|(k, v)| (Cow::Owned(k.into_owned()), Cow::Owned(v.into_owned())))
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_known_attribute_is_found_by_its_name_at_its_position() {
        for (i, k) in Known::ALL.iter().enumerate() {
            assert_eq!(Known::of(k.name()), Some(*k));
            assert_eq!(k.bit(), 1 << i);
        }
        assert_eq!(Known::of("T"), None);
        assert_eq!(Known::of("user"), None);
    }

    #[test]
    fn values_become_fields_and_bad_ones_name_the_attribute() {
        let mut a = SampleAttrs::default();
        a.set(Known::T, "12".into()).unwrap();
        a.set(Known::Ts, "".into()).unwrap();
        a.set(Known::Dt, "".into()).unwrap();
        a.set(Known::Rs, "404".into()).unwrap();
        a.set(Known::S, "false".into()).unwrap();
        assert_eq!(
            (a.t, a.ts, a.dt.as_deref(), a.rc.as_deref(), a.s),
            (Some(12), None, None, Some("404"), false)
        );
        assert_eq!(
            a.set(Known::By, "1.5".into()).unwrap_err(),
            ("by".to_string(), "'1.5' is not a whole number".to_string())
        );
        assert_eq!(
            a.set(Known::Ng, "3000000000".into()).unwrap_err(),
            ("ng".to_string(), "3000000000 is out of range".to_string())
        );
        assert_eq!(a.set(Known::S, "yes".into()).unwrap_err().0, "s");
    }
}

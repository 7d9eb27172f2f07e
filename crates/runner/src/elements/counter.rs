//! The Counter config element (`CounterConfig`): a variable set to the next number each time its
//! nearest enclosing controller (or thread group) begins an iteration — it is a
//! `LoopIterationListener`, like a CSV Data Set.
//!
//! JMeter's rules followed here (apache/jmeter tag `v2_13`, `modifiers/CounterConfig.java`; the
//! same in 5.6):
//! - **One instance for the whole test** (`NoThreadClone`): the shared counter starts at `start`,
//!   hands out its value and adds `incr`; when it is past `end` it starts again at `start`.
//! - **Per user** (`per_user`): each thread has its own value, starting at `start`; after the
//!   value is handed out, `incr` is added and a value past `end` wraps to `start`. With
//!   `reset_on_tg_iteration`, the value goes back to `start` the first time the counter fires in
//!   each new iteration of the thread group (`JMeterVariables.getIteration()` compared with the
//!   last one seen, which starts at 1).
//! - **`end` empty** means no end (`Long.MAX_VALUE`). Numbers that are not numbers read as 0
//!   (`getPropertyAsLong`). Arithmetic wraps as Java's `long` does.
//! - **`format`**: a `java.text.DecimalFormat` pattern (English symbols), see [`NumberFormat`];
//!   empty: `Long.toString`.

use std::sync::Mutex;

/// A Counter Config element.
#[derive(Debug)]
pub struct Counter {
    /// Run-unique id (the key of the per-user state).
    pub id: usize,
    /// The variable set (`CounterConfig.name`).
    pub var: String,
    /// `CounterConfig.start`.
    pub start: i64,
    /// `CounterConfig.end`; `i64::MAX` when empty.
    pub end: i64,
    /// `CounterConfig.incr`.
    pub incr: i64,
    /// `CounterConfig.format`, parsed.
    pub format: Option<NumberFormat>,
    /// `CounterConfig.per_user`.
    pub per_user: bool,
    /// `CounterConfig.reset_on_tg_iteration` (per user only).
    pub reset_on_iteration: bool,
    /// The shared counter (`None` before its first use).
    global: Mutex<Option<i64>>,
}

/// One user's state of a per-user counter.
#[derive(Debug, Clone, Copy)]
pub struct CounterState {
    current: i64,
    last_iteration: u64,
}

impl Counter {
    /// A counter with these settings.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        id: usize,
        var: String,
        start: i64,
        end: i64,
        incr: i64,
        format: Option<NumberFormat>,
        per_user: bool,
        reset_on_iteration: bool,
    ) -> Counter {
        Counter {
            id,
            var,
            start,
            end,
            incr,
            format,
            per_user,
            reset_on_iteration,
            global: Mutex::new(None),
        }
    }

    /// A user's state before its first value.
    pub fn first_state(&self) -> CounterState {
        CounterState {
            current: self.start,
            last_iteration: 1,
        }
    }

    /// The next value, formatted (JMeter's `iterationStart`). `state` is the user's own state
    /// (used when `per_user`); `iteration` is the thread group's iteration, from 1.
    pub fn next(&self, state: &mut CounterState, iteration: u64) -> String {
        if !self.per_user {
            let mut g = match self.global.lock() {
                Ok(g) => g,
                Err(poisoned) => poisoned.into_inner(),
            };
            let value = match *g {
                Some(v) if v <= self.end => v,
                _ => self.start,
            };
            *g = Some(value.wrapping_add(self.incr));
            return self.text(value);
        }
        if self.reset_on_iteration {
            if iteration != state.last_iteration {
                state.current = self.start;
            }
            state.last_iteration = iteration;
        }
        let value = state.current;
        let next = value.wrapping_add(self.incr);
        state.current = if next > self.end { self.start } else { next };
        self.text(value)
    }

    fn text(&self, value: i64) -> String {
        match &self.format {
            Some(f) => f.format(value),
            None => value.to_string(),
        }
    }
}

/// The part of `java.text.DecimalFormat` a counter needs: whole numbers in a pattern of a
/// literal prefix, digits (`0` a digit always shown, `#` one shown when needed), an optional
/// grouping `,` and fraction `.0…`, and a literal suffix, with English symbols (JMeter under
/// an English locale). A negative number gets `-` before the prefix, as DecimalFormat's
/// implicit negative subpattern does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NumberFormat {
    prefix: String,
    suffix: String,
    min_integer_digits: usize,
    /// Digits per group (0: no grouping).
    grouping: usize,
    /// Zeros after the decimal point.
    fraction_zeros: usize,
    /// The pattern ends its digits with `.`: the point is always shown.
    point_always: bool,
}

impl NumberFormat {
    /// Parses `pattern`; an error says what is not supported (quotes, `;`, `%`, `‰`, `¤`,
    /// exponents, digits after the suffix began).
    pub fn parse(pattern: &str) -> Result<NumberFormat, String> {
        const DIGITS: &[char] = &['0', '#', ',', '.'];
        if let Some(c) = pattern
            .chars()
            .find(|c| matches!(c, '\'' | ';' | '%' | '‰' | '¤'))
        {
            return Err(format!(
                "the character '{c}' of DecimalFormat patterns is not supported"
            ));
        }
        let start = pattern
            .find(DIGITS)
            .ok_or("a pattern needs 0 or # digits")?;
        let rest = &pattern[start..];
        let len = rest.find(|c| !DIGITS.contains(&c)).unwrap_or(rest.len());
        let (digits, suffix) = rest.split_at(len);
        if suffix.contains(DIGITS) || suffix.starts_with('E') {
            return Err("digits after the suffix, or an exponent, are not supported".into());
        }
        let (int, frac) = match digits.split_once('.') {
            Some((i, f)) if !f.contains(['.', ',']) => (i, Some(f)),
            Some(_) => return Err("a misplaced '.' or ','".into()),
            None => (digits, None),
        };
        if int.trim_start_matches(['#', ',']).contains('#') {
            return Err("'#' after '0' in the integer part".into());
        }
        let grouping = match int.rfind(',') {
            Some(i) => int.len() - i - 1,
            None => 0,
        };
        if int.contains(',') && grouping == 0 {
            return Err("a grouping ',' with no digits after it".into());
        }
        let frac = frac.unwrap_or("");
        if frac.trim_end_matches('#').contains('#') {
            return Err("'#' before '0' in the fraction".into());
        }
        Ok(NumberFormat {
            prefix: pattern[..start].to_string(),
            suffix: suffix.to_string(),
            min_integer_digits: int.matches('0').count(),
            grouping,
            fraction_zeros: frac.matches('0').count(),
            point_always: digits.ends_with('.'),
        })
    }

    /// `value` in this format.
    pub fn format(&self, value: i64) -> String {
        let digits = value.unsigned_abs().to_string();
        let digits = if value == 0 && self.min_integer_digits == 0 {
            // DecimalFormat prints a lone zero only when no digit at all would be shown and
            // there is no fraction.
            if self.fraction_zeros > 0 {
                String::new()
            } else {
                "0".to_string()
            }
        } else if digits.len() < self.min_integer_digits {
            format!(
                "{}{digits}",
                "0".repeat(self.min_integer_digits - digits.len())
            )
        } else {
            digits
        };
        let mut out = String::new();
        if value < 0 {
            out.push('-');
        }
        out.push_str(&self.prefix);
        let n = digits.len();
        for (i, d) in digits.chars().enumerate() {
            if self.grouping > 0 && i > 0 && (n - i) % self.grouping == 0 {
                out.push(',');
            }
            out.push(d);
        }
        if self.fraction_zeros > 0 || self.point_always {
            out.push('.');
            out.push_str(&"0".repeat(self.fraction_zeros));
        }
        out.push_str(&self.suffix);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counter(start: i64, end: i64, incr: i64, per_user: bool, reset: bool) -> Counter {
        Counter::new(1, "c".into(), start, end, incr, None, per_user, reset)
    }

    #[test]
    fn a_shared_counter_wraps_after_passing_end() {
        // CounterConfig.iterationStart: value, then += incr; past end → start (checked before
        // the value is handed out). start 1, end 3, incr 1: 1 2 3 1 2 3 1.
        let c = counter(1, 3, 1, false, false);
        let mut s = c.first_state();
        let got: Vec<String> = (0..7).map(|_| c.next(&mut s, 1)).collect();
        assert_eq!(got, ["1", "2", "3", "1", "2", "3", "1"]);
        // start 10, incr 5, end 22: 10 15 20 (25 > 22) 10.
        let c = counter(10, 22, 5, false, false);
        let got: Vec<String> = (0..4).map(|_| c.next(&mut s, 1)).collect();
        assert_eq!(got, ["10", "15", "20", "10"]);
    }

    #[test]
    fn per_user_counters_are_independent_and_reset_per_thread_group_iteration() {
        let c = counter(1, i64::MAX, 2, true, false);
        let (mut a, mut b) = (c.first_state(), c.first_state());
        assert_eq!(c.next(&mut a, 1), "1");
        assert_eq!(c.next(&mut a, 1), "3");
        assert_eq!(c.next(&mut b, 1), "1");
        assert_eq!(c.next(&mut a, 2), "5", "no reset without the flag");
        // With the reset: iteration 1 counts on from start, a new iteration starts again.
        let c = counter(0, i64::MAX, 1, true, true);
        let mut s = c.first_state();
        let got: Vec<String> = [1, 1, 1, 2, 2, 3]
            .iter()
            .map(|i| c.next(&mut s, *i))
            .collect();
        assert_eq!(got, ["0", "1", "2", "0", "1", "0"]);
        // Per user with an end: 1 2 1 2.
        let c = counter(1, 2, 1, true, false);
        let mut s = c.first_state();
        let got: Vec<String> = (0..4).map(|_| c.next(&mut s, 1)).collect();
        assert_eq!(got, ["1", "2", "1", "2"]);
    }

    #[test]
    fn decimal_format_patterns_format_as_java_does() {
        // Expected values are java.text.DecimalFormat's (Locale.ENGLISH) for these patterns.
        let f = |p: &str, v: i64| NumberFormat::parse(p).map(|n| n.format(v)).unwrap();
        assert_eq!(f("000", 7), "007");
        assert_eq!(f("000", 1234), "1234");
        assert_eq!(f("user_000", 5), "user_005");
        assert_eq!(f("#", 0), "0");
        assert_eq!(f("#", 42), "42");
        assert_eq!(f("#,##0", 1234567), "1,234,567");
        assert_eq!(f("0.00", 5), "5.00");
        assert_eq!(f("id-0000-x", 12), "id-0012-x");
        assert_eq!(f("000", -7), "-007");
        assert_eq!(f("ab#", -3), "-ab3");
        for bad in ["0%", "'x'0", "0;(0)", "0E0", "abc", "0x0"] {
            assert!(NumberFormat::parse(bad).is_err(), "{bad}");
        }
    }
}

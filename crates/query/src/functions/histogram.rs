//! [`Histogram`]: the exact distribution of integer values (response times in ms), mergeable,
//! and the percentile definitions that read it.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// A cheap hasher for i64 keys (a multiply-shift mix; keys are not adversarial).
#[derive(Default)]
pub(super) struct MixHasher(u64);

impl Hasher for MixHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ b as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_i64(&mut self, v: i64) {
        self.0 = (v as u64)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            .rotate_left(29);
    }
}

/// How a percentile is read from a distribution (docs/metrics.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PercentileMethod {
    /// The smallest value with at least ⌈p·n⌉ values at or below it (an observed value).
    NearestRank,
    /// Linear interpolation between closest ranks, (n−1)·p (numpy's default, DuckDB `quantile_cont`).
    Linear,
    /// JMeter's Aggregate Report: the first value whose cumulative count reaches round(n·p).
    JmeterAggregate,
    /// commons-math `Percentile` LEGACY (JMeter's dashboard estimator), without the window.
    Legacy,
}

impl PercentileMethod {
    /// Every method, in the order help texts list them.
    pub const ALL: [PercentileMethod; 4] = [
        Self::NearestRank,
        Self::Linear,
        Self::JmeterAggregate,
        Self::Legacy,
    ];

    /// The name the SQL functions take (one of those [`FromStr`](std::str::FromStr) accepts).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NearestRank => "nearest-rank",
            Self::Linear => "linear",
            Self::JmeterAggregate => "jmeter-aggregate",
            Self::Legacy => "legacy",
        }
    }

    /// The name on the command line: `jmeter-dashboard` for [`Self::Legacy`] (the CLI applies
    /// it with JMeter's window), else [`Self::as_str`].
    pub fn user_name(self) -> &'static str {
        match self {
            Self::Legacy => "jmeter-dashboard",
            other => other.as_str(),
        }
    }
}

/// A percentile method name that is none of loadlake's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown percentile method '{0}' (nearest-rank, linear, jmeter-aggregate, legacy)")]
pub struct UnknownPercentileMethod(pub String);

/// The one parser of percentile method names (SQL functions, gRPC requests, the CLI):
/// `nearest-rank` (or empty), `linear`, `jmeter-aggregate`, `legacy` or `jmeter-dashboard`.
impl std::str::FromStr for PercentileMethod {
    type Err = UnknownPercentileMethod;

    fn from_str(s: &str) -> Result<Self, UnknownPercentileMethod> {
        match s {
            "nearest-rank" | "" => Ok(Self::NearestRank),
            "linear" => Ok(Self::Linear),
            "jmeter-aggregate" => Ok(Self::JmeterAggregate),
            "legacy" | "jmeter-dashboard" => Ok(Self::Legacy),
            _ => Err(UnknownPercentileMethod(s.to_string())),
        }
    }
}

/// Values below this are counted in a vector (indexed by value) once a histogram holds enough
/// values to pay for it; response times in ms mostly are.
const DENSE_LIMIT: usize = 4096;
/// The vector's first length, and the most slots it may have per value counted: a histogram of
/// fewer than 16 values stays a map, and a group of a hundred samples never holds a 32 KiB
/// vector for one slow request.
const DENSE_MIN: usize = 64;
const DENSE_PER_VALUE: u64 = 4;

/// Exact value → count map: small non-negative values in a vector, the others in a hash map,
/// never the same value in both.
#[derive(Debug, Default, Clone)]
pub struct Histogram {
    dense: Vec<u64>,
    sparse: HashMap<i64, u64, BuildHasherDefault<MixHasher>>,
    total: u64,
}

impl Histogram {
    /// Adds `n` occurrences of `value`.
    #[inline]
    pub fn add(&mut self, value: i64, n: u64) {
        if n == 0 {
            return;
        }
        self.total += n;
        if let Some(slot) = usize::try_from(value)
            .ok()
            .and_then(|v| self.dense.get_mut(v))
        {
            *slot += n;
        } else {
            self.add_outside_dense(value, n);
        }
    }

    /// The slow path of [`Self::add`]: grows the vector when `value` fits and the histogram
    /// holds enough values, else counts `value` in the map.
    #[cold]
    fn add_outside_dense(&mut self, value: i64, n: u64) {
        if let Ok(v) = usize::try_from(value)
            && v < DENSE_LIMIT
        {
            let len = (v + 1).next_power_of_two().max(DENSE_MIN);
            if (len as u64) <= self.total.saturating_mul(DENSE_PER_VALUE) {
                self.grow_dense(len);
                self.dense[v] += n;
                return;
            }
        }
        *self.sparse.entry(value).or_insert(0) += n;
    }

    /// Grows the vector to `len` and moves the map's values that now fit into it.
    fn grow_dense(&mut self, len: usize) {
        let old = self.dense.len();
        self.dense.resize(len, 0);
        if !self.sparse.is_empty() {
            let dense = &mut self.dense;
            self.sparse.retain(|&v, &mut n| match usize::try_from(v) {
                Ok(i) if (old..len).contains(&i) => {
                    dense[i] += n;
                    false
                }
                _ => true,
            });
        }
    }

    /// Adds the flattened `(value, count)` pairs of another histogram.
    pub fn add_pairs(&mut self, pairs: &[i64]) {
        for pair in pairs.chunks_exact(2) {
            self.add(pair[0], pair[1].max(0) as u64);
        }
    }

    /// Number of values.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// Distinct values.
    pub fn distinct(&self) -> usize {
        self.dense.iter().filter(|&&n| n > 0).count() + self.sparse.len()
    }

    /// Sorted, flattened `(value, count)` pairs.
    pub fn to_pairs(&self) -> Vec<i64> {
        let mut sparse: Vec<(i64, u64)> = self.sparse.iter().map(|(v, n)| (*v, *n)).collect();
        sparse.sort_unstable();
        // The map holds no value of the vector's range: negatives come before it, the rest after.
        let split = sparse.partition_point(|&(v, _)| v < 0);
        let dense = (self.dense.iter().enumerate())
            .filter(|&(_, &n)| n > 0)
            .map(|(v, &n)| (v as i64, n));
        let mut pairs = Vec::with_capacity(2 * (sparse.len() + self.dense.len()));
        for (v, n) in sparse[..split]
            .iter()
            .copied()
            .chain(dense)
            .chain(sparse[split..].iter().copied())
        {
            pairs.extend([v, n as i64]);
        }
        pairs
    }

    /// Approximate heap size in bytes.
    pub fn size(&self) -> usize {
        self.sparse.capacity() * 24 + self.dense.capacity() * 8 + std::mem::size_of::<Self>()
    }
}

/// ⌈x⌉ for a rank computed in floating point: 99.9 / 100 · 1000 is 999.000…1, whose ceiling
/// would be one rank too high, so values within 1e-9 of an integer count as that integer.
fn ceil_rank(x: f64) -> u64 {
    let nearest = x.round();
    if (x - nearest).abs() < 1e-9 {
        nearest as u64
    } else {
        x.ceil() as u64
    }
}

/// A sorted histogram view for reading percentiles.
pub struct SortedCounts<'a> {
    pairs: &'a [i64],
    total: u64,
}

impl<'a> SortedCounts<'a> {
    /// Wraps sorted flattened pairs (as stored in the `List<Int64>` histogram values).
    pub fn new(pairs: &'a [i64]) -> Self {
        let total = pairs.chunks_exact(2).map(|p| p[1].max(0) as u64).sum();
        SortedCounts { pairs, total }
    }

    /// The `k`-th smallest value, 1-based (k clamped to 1..=n).
    fn kth(&self, k: u64) -> f64 {
        let k = k.clamp(1, self.total);
        let mut seen = 0u64;
        for pair in self.pairs.chunks_exact(2) {
            seen += pair[1].max(0) as u64;
            if seen >= k {
                return pair[0] as f64;
            }
        }
        self.pairs[self.pairs.len() - 2] as f64
    }

    /// The percentile `percent` (0–100); `None` for an empty histogram.
    pub fn percentile(&self, percent: f64, method: PercentileMethod) -> Option<f64> {
        self.quantile(percent / 100.0, method)
    }

    /// The `fraction` quantile (0.95 for the 95th percentile; clamped to [0, 1]) by `method`,
    /// `None` when empty.
    pub fn quantile(&self, fraction: f64, method: PercentileMethod) -> Option<f64> {
        if self.total == 0 {
            return None;
        }
        let n = self.total as f64;
        let p = fraction.clamp(0.0, 1.0);
        Some(match method {
            PercentileMethod::NearestRank => self.kth(ceil_rank(p * n)),
            PercentileMethod::JmeterAggregate => self.kth((p * n + 0.5).floor() as u64),
            PercentileMethod::Linear => {
                let h = (n - 1.0) * p;
                let lo = h.floor();
                let a = self.kth(lo as u64 + 1);
                let b = self.kth(lo as u64 + 2);
                a + (h - lo) * (b - a)
            }
            PercentileMethod::Legacy => {
                let pos = p * (n + 1.0);
                if pos < 1.0 {
                    self.kth(1)
                } else if pos >= n {
                    self.kth(self.total)
                } else {
                    let f = pos.floor();
                    let lower = self.kth(f as u64);
                    let upper = self.kth(f as u64 + 1);
                    lower + (pos - f) * (upper - lower)
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hist(values: &[i64]) -> Vec<i64> {
        let mut h = Histogram::default();
        for v in values {
            h.add(*v, 1);
        }
        h.to_pairs()
    }

    #[test]
    fn percentile_method_names_parse_back() {
        for m in PercentileMethod::ALL {
            assert_eq!(m.as_str().parse::<PercentileMethod>(), Ok(m));
            assert_eq!(m.user_name().parse::<PercentileMethod>(), Ok(m));
        }
        assert_eq!("".parse(), Ok(PercentileMethod::NearestRank));
        let unknown = "LINEAR".parse::<PercentileMethod>().unwrap_err();
        assert_eq!(
            unknown.to_string(),
            "unknown percentile method 'LINEAR' (nearest-rank, linear, jmeter-aggregate, legacy)"
        );
    }

    // The vector and the map together against a BTreeMap: values first seen while the
    // histogram is small (so in the map), then moved into the grown vector; negatives, values
    // past the vector's limit, counts above one.
    #[test]
    fn vector_and_map_count_like_a_sorted_map() {
        let mut h = Histogram::default();
        let mut truth = std::collections::BTreeMap::<i64, u64>::new();
        let mut add = |h: &mut Histogram, v: i64, n: u64| {
            h.add(v, n);
            *truth.entry(v).or_insert(0) += n;
        };
        for v in [3000, 900, -5, 70, 5000, 3000, i64::MAX, i64::MIN] {
            add(&mut h, v, 1);
        }
        for i in 0..2000 {
            add(&mut h, (i * 7919) % 4500 - 10, 1 + (i % 3) as u64);
        }
        add(&mut h, 900, 0);
        let want: Vec<i64> = truth.iter().flat_map(|(v, n)| [*v, *n as i64]).collect();
        assert_eq!(h.to_pairs(), want);
        assert_eq!(h.total(), truth.values().sum::<u64>());
        assert_eq!(h.distinct(), truth.len());
        assert!(!h.dense.is_empty() && !h.sparse.is_empty());
        assert!(h.sparse.keys().all(|&v| v < 0 || v >= h.dense.len() as i64));
    }

    #[test]
    fn pairs_are_sorted_and_merge() {
        let mut h = Histogram::default();
        h.add_pairs(&hist(&[5, 1, 5]));
        h.add_pairs(&hist(&[1, 9]));
        assert_eq!(h.to_pairs(), vec![1, 2, 5, 2, 9, 1]);
        assert_eq!(h.total(), 5);
    }

    // Hand-computed on 1..=10.
    #[test]
    fn methods_on_one_to_ten() {
        let pairs = hist(&(1..=10).collect::<Vec<_>>());
        let s = SortedCounts::new(&pairs);
        let at = |p, m| s.percentile(p, m).unwrap();
        use PercentileMethod::*;
        assert_eq!(at(90.0, NearestRank), 9.0); // ceil(9) = 9th
        assert_eq!(at(95.0, NearestRank), 10.0); // ceil(9.5) = 10th
        assert_eq!(at(50.0, NearestRank), 5.0);
        assert_eq!(at(0.0, NearestRank), 1.0);
        assert!((at(90.0, Linear) - 9.1).abs() < 1e-12); // h = 8.1 → 9 + 0.1
        assert_eq!(at(50.0, Linear), 5.5);
        assert_eq!(at(95.0, JmeterAggregate), 10.0); // round(9.5) = 10
        assert_eq!(at(94.0, JmeterAggregate), 9.0); // round(9.4) = 9
        assert!((at(90.0, Legacy) - 9.9).abs() < 1e-12); // pos = 9.9 → 9 + 0.9·1
        assert_eq!(at(99.0, Legacy), 10.0); // pos = 10.89 ≥ n
        assert_eq!(at(5.0, Legacy), 1.0); // pos = 0.55 < 1
        assert_eq!(SortedCounts::new(&[]).percentile(50.0, NearestRank), None);
    }

    // By hand: the 99.9th percentile of 1..=1000 is rank ⌈0.999 · 1000⌉ = 999, though
    // 99.9 / 100 · 1000 is 999.0000000000001 in floating point.
    #[test]
    fn whole_ranks_are_not_rounded_up_by_float_error() {
        let pairs = hist(&(1..=1000).collect::<Vec<_>>());
        let s = SortedCounts::new(&pairs);
        assert_eq!(
            s.percentile(99.9, PercentileMethod::NearestRank),
            Some(999.0)
        );
        assert_eq!(
            s.percentile(99.99, PercentileMethod::NearestRank),
            Some(1000.0)
        );
        assert_eq!(
            s.percentile(70.0, PercentileMethod::NearestRank),
            Some(700.0)
        );
    }
}

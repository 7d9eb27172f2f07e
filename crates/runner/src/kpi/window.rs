//! A window of samples (a peak-seeking step, one second of a stop rule) and the KPI metrics over
//! it. Elapsed times are kept as an exact histogram (milliseconds → count), so percentiles are
//! exact whatever the traffic.

use std::collections::HashMap;

use loadlake_plan::KpiMetric;

/// Samples counted together.
#[derive(Debug, Default)]
pub(crate) struct Window {
    pub samples: u64,
    pub errors: u64,
    sum_ms: i64,
    max_ms: i64,
    /// Elapsed ms → samples.
    histogram: HashMap<i64, u64>,
}

impl Window {
    pub(crate) fn add(&mut self, elapsed_ms: i64, success: bool) {
        self.samples += 1;
        self.errors += u64::from(!success);
        self.sum_ms += elapsed_ms;
        self.max_ms = self.max_ms.max(elapsed_ms);
        *self.histogram.entry(elapsed_ms).or_default() += 1;
    }

    pub(crate) fn avg(&self) -> f64 {
        if self.samples == 0 {
            0.0
        } else {
            self.sum_ms as f64 / self.samples as f64
        }
    }

    /// The exact `p`-th percentile (nearest rank, as the report queries compute it).
    pub(crate) fn percentile(&self, p: u8) -> f64 {
        if self.samples == 0 {
            return 0.0;
        }
        let rank = ((f64::from(p) / 100.0) * self.samples as f64)
            .ceil()
            .max(1.0) as u64;
        let mut values: Vec<(i64, u64)> = self.histogram.iter().map(|(v, c)| (*v, *c)).collect();
        values.sort_unstable();
        let mut seen = 0;
        for (v, c) in values {
            seen += c;
            if seen >= rank {
                return v as f64;
            }
        }
        self.max_ms as f64
    }

    pub(crate) fn success_rate(&self) -> f64 {
        if self.samples == 0 {
            0.0
        } else {
            100.0 * (self.samples - self.errors) as f64 / self.samples as f64
        }
    }

    pub(crate) fn value(&self, metric: KpiMetric, seconds: f64) -> f64 {
        match metric {
            KpiMetric::AvgRt => self.avg(),
            KpiMetric::Percentile(p) => self.percentile(p),
            KpiMetric::MaxRt => self.max_ms as f64,
            KpiMetric::SuccessRate => self.success_rate(),
            KpiMetric::ErrorRate => 100.0 - self.success_rate(),
            KpiMetric::Tps => self.samples as f64 / seconds,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_exact_nearest_rank() {
        let mut w = Window::default();
        for ms in 1..=100 {
            w.add(ms, ms % 10 != 0);
        }
        assert_eq!(w.percentile(95), 95.0);
        assert_eq!(w.percentile(50), 50.0);
        assert_eq!(w.avg(), 50.5);
        assert_eq!(w.success_rate(), 90.0);
        assert_eq!(w.value(KpiMetric::Tps, 2.0), 50.0);
    }
}

//! Property tests of the histogram aggregates' merge, through the accumulator interface
//! DataFusion (and datafusion-distributed, across workers) drives: however the rows are split
//! into partial states and in whatever order and grouping the states are merged, the result is
//! the exact histogram of all rows — merge is associative and commutative. The truth is a
//! `BTreeMap` count of the values, built here independently.

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, Int64Array};
use arrow::datatypes::Int64Type;
use datafusion::logical_expr::{Accumulator, EmitTo, GroupsAccumulator};
use datafusion::scalar::ScalarValue;

use super::{HistogramAccumulator, HistogramGroups};
use crate::functions::Histogram;

/// `(value, count)` pairs, flattened and sorted by value: the histogram's documented layout.
fn truth(values: &[Option<i64>]) -> Vec<i64> {
    let mut counts = BTreeMap::<i64, i64>::new();
    for v in values.iter().flatten() {
        *counts.entry(*v).or_default() += 1;
    }
    counts.into_iter().flat_map(|(v, c)| [v, c]).collect()
}

/// Random values with duplicates, negatives, zeros, large values and NULLs.
fn random_values(rng: &mut fastrand::Rng) -> Vec<Option<i64>> {
    let n = rng.usize(0..400);
    let spread = [3, 50, 10_000, i64::MAX / 4][rng.usize(0..4)];
    (0..n)
        .map(|_| (rng.u8(0..20) != 0).then(|| rng.i64(-spread..spread)))
        .collect()
}

fn accumulator(merge_input: bool) -> HistogramAccumulator {
    HistogramAccumulator {
        hist: Histogram::default(),
        merge_input,
    }
}

/// The pairs of a one-row `List<Int64>` state or result.
fn pairs(value: &ScalarValue) -> Vec<i64> {
    let ScalarValue::List(list) = value else {
        panic!("not a list: {value:?}");
    };
    list.value(0).as_primitive::<Int64Type>().values().to_vec()
}

/// Merges `states` (one-row arrays) in a random grouping: pairs picked at random are merged
/// into one state until one is left.
fn merge_randomly(rng: &mut fastrand::Rng, mut states: Vec<ArrayRef>) -> Vec<i64> {
    if states.is_empty() {
        return Vec::new();
    }
    while states.len() > 1 {
        let a = states.swap_remove(rng.usize(0..states.len()));
        let b = states.swap_remove(rng.usize(0..states.len()));
        let mut acc = accumulator(true);
        // Either order: merge must be commutative.
        let (first, second) = if rng.bool() { (a, b) } else { (b, a) };
        acc.merge_batch(&[first]).unwrap();
        acc.merge_batch(&[second]).unwrap();
        states.push(acc.state().unwrap()[0].to_array().unwrap());
    }
    let mut last = accumulator(true);
    last.merge_batch(&[states.remove(0)]).unwrap();
    pairs(&last.evaluate().unwrap())
}

#[test]
fn any_split_and_any_merge_order_gives_the_exact_histogram() {
    for seed in 0..300 {
        let mut rng = fastrand::Rng::with_seed(seed);
        let values = random_values(&mut rng);
        // Rows dealt to 1–8 partial accumulators at random (not in runs: any split).
        let parts = rng.usize(1..9);
        let mut dealt = vec![Vec::new(); parts];
        for v in &values {
            dealt[rng.usize(0..parts)].push(*v);
        }
        let states: Vec<ArrayRef> = dealt
            .iter()
            .map(|rows| {
                let mut acc = accumulator(false);
                let input: ArrayRef = Arc::new(Int64Array::from(rows.clone()));
                acc.update_batch(&[input]).unwrap();
                acc.state().unwrap()[0].to_array().unwrap()
            })
            .collect();
        assert_eq!(
            merge_randomly(&mut rng, states),
            truth(&values),
            "seed {seed}: {parts} parts"
        );
    }
}

#[test]
fn grouped_states_merged_in_any_order_give_each_groups_histogram() {
    for seed in 0..100 {
        let mut rng = fastrand::Rng::with_seed(1000 + seed);
        let values = random_values(&mut rng);
        let groups = rng.usize(1..5);
        let group_of: Vec<usize> = values.iter().map(|_| rng.usize(0..groups)).collect();
        // Each row as its own state (the path of skipped partial aggregation), merged into
        // the groups in a random row order.
        let raw = HistogramGroups {
            hists: Vec::new(),
            merge_input: false,
        };
        let input: ArrayRef = Arc::new(Int64Array::from(values.clone()));
        let per_row = raw.convert_to_state(&[input], None).unwrap().remove(0);
        let mut order: Vec<usize> = (0..values.len()).collect();
        rng.shuffle(&mut order);
        let mut merged = HistogramGroups {
            hists: Vec::new(),
            merge_input: false,
        };
        for chunk in order.chunks(rng.usize(1..50)) {
            let indices = arrow::array::UInt32Array::from(
                chunk.iter().map(|&i| i as u32).collect::<Vec<_>>(),
            );
            let states = arrow::compute::take(per_row.as_ref(), &indices, None).unwrap();
            let group_indices: Vec<usize> = chunk.iter().map(|&i| group_of[i]).collect();
            merged
                .merge_batch(&[states], &group_indices, groups)
                .unwrap();
        }
        let result = merged.evaluate(EmitTo::All).unwrap();
        let result = result.as_list::<i32>();
        for g in 0..groups {
            let expected: Vec<Option<i64>> = values
                .iter()
                .zip(&group_of)
                .filter(|(_, gg)| **gg == g)
                .map(|(v, _)| *v)
                .collect();
            let got: Vec<i64> = if g < result.len() && result.is_valid(g) {
                result
                    .value(g)
                    .as_primitive::<Int64Type>()
                    .values()
                    .to_vec()
            } else {
                Vec::new()
            };
            assert_eq!(got, truth(&expected), "seed {seed}, group {g}");
        }
    }
}

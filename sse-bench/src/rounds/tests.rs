use super::report::{allocations_text, plural, rate, seconds, signed_seconds, thousands};
use super::*;

#[test]
fn spread_of_an_odd_count() {
    let spread = Spread::of(&[5.0, 1.0, 4.0, 2.0, 3.0]).unwrap();
    assert_eq!(
        spread,
        Spread {
            min: 1.0,
            q1: 2.0,
            median: 3.0,
            q3: 4.0,
            max: 5.0
        }
    );
}

#[test]
fn spread_of_an_even_count_interpolates() {
    // Sorted: 1 2 3 10. Median between 2 and 3; q1 at position 0.75
    // (1 + 0.75), q3 at position 2.25 (3 + 0.25 × 7).
    let spread = Spread::of(&[10.0, 2.0, 1.0, 3.0]).unwrap();
    assert_eq!(spread.median, 2.5);
    assert_eq!(spread.q1, 1.75);
    assert_eq!(spread.q3, 4.75);
    assert_eq!((spread.min, spread.max), (1.0, 10.0));
}

#[test]
fn spread_of_one_and_of_none() {
    let one = Spread::of(&[7.0]).unwrap();
    assert_eq!(
        (one.min, one.q1, one.median, one.q3, one.max),
        (7.0, 7.0, 7.0, 7.0, 7.0)
    );
    assert_eq!(Spread::of(&[]), None);
}

#[test]
fn an_outlier_moves_the_median_of_ratios_little() {
    // Rounds where the machine slowed both contenders alike give the
    // same ratio; one round where it slowed only the peer is an outlier
    // the median ignores.
    let ours = [10.0, 20.0, 15.0, 10.0, 12.0];
    let peer = [40.0, 80.0, 60.0, 90.0, 48.0];
    let ratios: Vec<f64> = peer.iter().zip(&ours).map(|(p, o)| p / o).collect();
    let spread = Spread::of(&ratios).unwrap();
    assert_eq!(spread.median, 4.0);
    assert_eq!(spread.max, 9.0);
}

#[test]
fn every_order_comes_once_per_cycle() {
    let mut seen: Vec<Vec<usize>> = (0..6).map(|round| round_order(3, round)).collect();
    assert_eq!(seen[0], [0, 1, 2]);
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 6, "all six orders of three");
    assert_eq!(round_order(3, 6), round_order(3, 0), "then again");
    assert_eq!(round_order(2, 1), [1, 0]);
    assert_eq!(round_order(1, 5), [0]);
}

#[test]
fn rounds_compare_within_the_round() {
    let mut calls = 0;
    let report = Workload::new("work", "item")
        .output("units")
        .contender(Contender::new("ours", 10, || 10))
        .contender(Contender::new("peer", 10, || {
            calls += 1;
            20
        }))
        .run(&Config::smoke().rounds(4));
    let rows = report.rows();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].runs_per_sample, 1);
    assert!(rows[0].ratio.is_none());
    assert!(rows[1].ratio.is_some());
    assert_eq!(rows[1].output_per_element, Some(2.0));
    let table = report.to_string();
    assert!(table.starts_with("### work, 10 items per run (4 rounds"));
    assert!(table.contains("| ours |"), "{table}");
    assert!(table.contains(" units/item |"), "{table}");
    assert_eq!(calls, 4, "one run per round in a smoke run");
}

#[test]
fn numbers_read_as_in_the_tables() {
    assert_eq!(thousands(1_000_000), "1,000,000");
    assert_eq!(thousands(999), "999");
    assert_eq!(seconds(0.0597), "59.70 ms");
    assert_eq!(seconds(0.000_000_294), "294.0 ns");
    assert_eq!(signed_seconds(-1.5e-7), "−150.0 ns");
    assert_eq!(rate(16_740_000.0), "16.74 M");
    assert_eq!(allocations_text(0.0), "0.000");
    assert_eq!(allocations_text(0.0004), "< 0.001");
    assert_eq!(plural("delivery"), "deliveries");
    assert_eq!(plural("publish"), "publishes");
    assert_eq!(plural("day"), "days");
    assert_eq!(plural("event"), "events");
}

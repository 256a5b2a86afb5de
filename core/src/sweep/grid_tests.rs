//! Tests of a sweep's grid: ranges without float drift, lists, limits and
//! the combinations in order.

use serde_json::json;

use super::*;

fn schema() -> InputSchema {
    InputSchema::parse(
        &json!({
            "type": "object",
            "required": ["growth"],
            "properties": {
                "growth": {"type": "number", "minimum": -0.5, "maximum": 0.5},
                "horizon": {"type": "integer", "minimum": 1, "maximum": 60, "default": 12},
                "segment": {"type": "string", "enum": ["retail", "b2b", "public"], "default": "retail"},
                "data": {"type": "string", "format": "file"}
            }
        }),
        "inputs",
    )
    .expect("valid schema")
}

#[test]
fn a_range_lands_on_its_decimal_steps() {
    assert_eq!(
        range_values(0.02, 0.06, 0.01, 200).expect("range"),
        [0.02, 0.03, 0.04, 0.05, 0.06]
    );
    assert_eq!(
        range_values(1.0, 2.0, 0.25, 200).expect("range"),
        [1.0, 1.25, 1.5, 1.75, 2.0]
    );
    // The end is kept only where a step lands on it.
    assert_eq!(
        range_values(0.0, 1.0, 0.4, 200).expect("range"),
        [0.0, 0.4, 0.8]
    );
    assert_eq!(range_values(5.0, 5.0, 1.0, 200).expect("range"), [5.0]);
}

#[test]
fn a_range_refuses_what_makes_no_sense_before_making_anything() {
    assert!(
        range_values(0.0, 1.0, 0.0, 200)
            .expect_err("refused")
            .contains("more than 0")
    );
    assert!(
        range_values(0.0, 1.0, -1.0, 200)
            .expect_err("refused")
            .contains("more than 0")
    );
    assert!(
        range_values(2.0, 1.0, 1.0, 200)
            .expect_err("refused")
            .contains("not be less")
    );
    assert!(
        range_values(0.0, 1.0, 1e-12, 200)
            .expect_err("refused")
            .contains("more than 200")
    );
    assert!(range_values(f64::NAN, 1.0, 1.0, 200).is_err());
}

#[test]
fn an_axis_checks_each_value_against_its_input() {
    let schema = schema();
    let range = Variation::Range {
        from: 0.02,
        to: 0.04,
        step: 0.01,
    };
    let axis = axis(&schema, "growth", &range, 200).expect("axis");
    assert_eq!(axis.values, [json!(0.02), json!(0.03), json!(0.04)]);
    let months = Variation::Range {
        from: 6.0,
        to: 12.0,
        step: 6.0,
    };
    assert_eq!(
        super::axis(&schema, "horizon", &months, 200)
            .expect("axis")
            .values,
        [json!(6), json!(12)]
    );
    let too_far = Variation::Range {
        from: 0.4,
        to: 0.6,
        step: 0.1,
    };
    let message = super::axis(&schema, "growth", &too_far, 200).expect_err("refused");
    assert!(message.starts_with("0.6 in the sweep"), "{message}");
    let segments = Variation::List(vec![json!("retail"), json!("b2b")]);
    assert_eq!(
        super::axis(&schema, "segment", &segments, 200)
            .expect("axis")
            .values
            .len(),
        2
    );
    let twice = Variation::List(vec![json!("b2b"), json!("b2b")]);
    assert!(
        super::axis(&schema, "segment", &twice, 200)
            .expect_err("refused")
            .contains("twice")
    );
    let unknown = Variation::List(vec![json!("nope")]);
    assert!(
        super::axis(&schema, "segment", &unknown, 200)
            .expect_err("refused")
            .starts_with("nope in the sweep")
    );
    assert!(
        super::axis(&schema, "segment", &range, 200)
            .expect_err("refused")
            .contains("not a number")
    );
    assert!(
        super::axis(&schema, "missing", &segments, 200)
            .expect_err("refused")
            .contains("not an input")
    );
    assert!(
        super::axis(&schema, "data", &segments, 200)
            .expect_err("refused")
            .contains("file")
    );
    assert!(
        super::axis(&schema, "segment", &Variation::List(vec![]), 200)
            .expect_err("refused")
            .contains("no values")
    );
}

#[test]
fn the_grid_is_every_combination_first_axis_slowest() {
    let schema = schema();
    let axes = vec![
        Axis {
            field: "growth".into(),
            values: vec![json!(0.02), json!(0.03)],
        },
        Axis {
            field: "segment".into(),
            values: vec![json!("retail"), json!("b2b"), json!("public")],
        },
    ];
    assert_eq!(grid_size(&axes), 6);
    let runs = expand(&schema, &Inputs::new(), &axes, 200, &Uploads::default()).expect("grid");
    let points: Vec<(Value, Value)> = runs
        .iter()
        .map(|inputs| (inputs["growth"].clone(), inputs["segment"].clone()))
        .collect();
    assert_eq!(points[0], (json!(0.02), json!("retail")));
    assert_eq!(points[2], (json!(0.02), json!("public")));
    assert_eq!(points[3], (json!(0.03), json!("retail")));
    // Defaults of what is not varied are filled in, as for one run.
    assert_eq!(runs[5]["horizon"], json!(12));
    assert_eq!(
        label(&axes, &point(&axes, 4)),
        "growth = 0.03, segment = b2b"
    );
}

#[test]
fn the_grid_holds_from_two_runs_to_the_maximum() {
    let schema = schema();
    let one = vec![Axis {
        field: "growth".into(),
        values: vec![json!(0.02)],
    }];
    let refused =
        expand(&schema, &Inputs::new(), &one, 200, &Uploads::default()).expect_err("refused");
    assert!(refused.message("vary").expect("vary").contains("one run"));
    let wide = vec![
        Axis {
            field: "growth".into(),
            values: (0..20).map(|i| json!(f64::from(i) / 100.0)).collect(),
        },
        Axis {
            field: "horizon".into(),
            values: (1..=11).map(|i| json!(i)).collect(),
        },
    ];
    let refused =
        expand(&schema, &Inputs::new(), &wide, 200, &Uploads::default()).expect_err("refused");
    assert_eq!(
        refused.message("vary"),
        Some("makes 220 runs; a sweep makes at most 200")
    );
    let twice = vec![one[0].clone(), one[0].clone()];
    let refused =
        expand(&schema, &Inputs::new(), &twice, 200, &Uploads::default()).expect_err("refused");
    assert_eq!(refused.message("growth"), Some("is varied twice"));
}

#[test]
fn a_combination_the_schema_refuses_is_named() {
    let schema = schema();
    let axes = vec![Axis {
        field: "segment".into(),
        values: vec![json!("retail"), json!("b2b")],
    }];
    // growth is required and not given.
    let refused =
        expand(&schema, &Inputs::new(), &axes, 200, &Uploads::default()).expect_err("refused");
    let message = refused.message("growth").expect("growth");
    assert!(message.starts_with("(with segment = retail)"), "{message}");
}

#[test]
fn points_cover_the_grid_once() {
    let axes = vec![
        Axis {
            field: "a".into(),
            values: vec![json!(1), json!(2)],
        },
        Axis {
            field: "b".into(),
            values: vec![json!(1), json!(2), json!(3)],
        },
        Axis {
            field: "c".into(),
            values: vec![json!(1), json!(2)],
        },
    ];
    let mut seen: Vec<Vec<Value>> = (0..12)
        .map(|i| point(&axes, i).into_iter().cloned().collect())
        .collect();
    seen.sort_by_key(|p| {
        p.iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(",")
    });
    seen.dedup();
    assert_eq!(seen.len(), 12);
}

#[test]
fn a_range_takes_from_to_and_step_and_nothing_else() {
    let range: Variation =
        serde_json::from_value(json!({"from": 1, "to": 2, "step": 1})).expect("range");
    assert_eq!(
        range,
        Variation::Range {
            from: 1.0,
            to: 2.0,
            step: 1.0
        }
    );
    assert!(
        serde_json::from_value::<Variation>(json!({"from": 1, "to": 2, "step": 1, "extra": 5}))
            .is_err()
    );
    assert!(serde_json::from_value::<Variation>(json!({"from": 1, "to": 2})).is_err());
    assert!(serde_json::from_value::<Variation>(json!([1, 2])).is_ok());
    assert!(serde_json::from_value::<Variation>(json!("1 to 2")).is_err());
}

#[test]
fn a_list_longer_than_the_maximum_is_refused_before_its_values_are_compared() {
    let many = Variation::List((0..201).map(|i| json!(f64::from(i) / 1000.0)).collect());
    let message = axis(&schema(), "growth", &many, 200).expect_err("refused");
    assert_eq!(message, "lists 201 values; a sweep makes at most 200 runs");
}

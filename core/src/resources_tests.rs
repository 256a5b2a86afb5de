//! Tests of [`super`]: what a run may ask for, from the API, a form and a
//! manifest's `[resources.max]`.

use serde_json::json;

use super::*;

const DEFAULT: Resources = Resources {
    vcpu: 1.0,
    memory_mib: 2048,
    timeout_seconds: 600,
};

fn bounds() -> ResourceBounds {
    ResourceBounds {
        default: DEFAULT,
        max: Resources {
            vcpu: 4.0,
            memory_mib: 8192,
            timeout_seconds: 3600,
        },
    }
}

#[test]
fn a_request_takes_the_version_values_for_what_it_leaves_out() {
    let mut errors = ValidationErrors::default();
    let asked = ResourceRequest::read_json(
        json!({ "vcpu": 2, "timeout_seconds": null })
            .as_object()
            .expect("object"),
        "resources",
        &mut errors,
    );
    assert!(errors.is_empty(), "{errors}");
    assert_eq!(
        asked.over(DEFAULT),
        Resources {
            vcpu: 2.0,
            ..DEFAULT
        }
    );
    assert_eq!(ResourceRequest::default().over(DEFAULT), DEFAULT);
}

#[test]
fn wrong_types_and_unknown_keys_are_named() {
    let mut errors = ValidationErrors::default();
    let asked = ResourceRequest::read_json(
        json!({ "vcpu": "two", "memory_mib": 1.5, "timeout_seconds": 60, "gpus": 1 })
            .as_object()
            .expect("object"),
        "resources",
        &mut errors,
    );
    let mut fields: Vec<_> = errors.errors.iter().map(|e| e.field.as_str()).collect();
    fields.sort_unstable();
    assert_eq!(
        fields,
        ["resources.gpus", "resources.memory_mib", "resources.vcpu"]
    );
    assert_eq!(
        errors.message("resources.memory_mib"),
        Some("must be a whole number of MiB")
    );
    assert_eq!(
        asked.timeout_seconds,
        Some(60),
        "what is right is kept, to be checked against the bounds too"
    );
    let mut errors = ValidationErrors::default();
    let asked = ResourceRequest::read_text("NaNa", "-3", "ten", "resources", &mut errors);
    assert_eq!(
        errors.to_string(),
        "resources.vcpu: must be a number of vCPUs, such as 0.5 or 2; \
         resources.timeout_seconds: must be a whole number of seconds"
    );
    assert_eq!(asked.memory_mib, Some(-3));
    let mut errors = ValidationErrors::default();
    assert_eq!(
        ResourceRequest::read_text(" 0.5 ", "", "", "resources", &mut errors),
        ResourceRequest {
            vcpu: Some(0.5),
            ..Default::default()
        }
    );
    assert!(errors.is_empty());
}

#[test]
fn runs_ask_from_the_global_minimum_to_the_version_max() {
    let bounds = bounds();
    assert!(bounds.check(&DEFAULT, "resources").is_ok());
    assert!(bounds.check(&bounds.max, "resources").is_ok());
    let least = Resources {
        vcpu: Resources::MIN_VCPU,
        memory_mib: Resources::MIN_MEMORY_MIB,
        timeout_seconds: Resources::MIN_TIMEOUT_SECONDS,
    };
    assert!(bounds.check(&least, "resources").is_ok());
    let too_much = Resources {
        vcpu: 8.0,
        memory_mib: 64,
        timeout_seconds: 3601,
    };
    let errors = bounds.check(&too_much, "resources").expect_err("outside");
    assert_eq!(
        errors.message("resources.vcpu"),
        Some("must be from 0.25 to 4 vCPU (the version allows at most 4)")
    );
    assert_eq!(
        errors.message("resources.memory_mib"),
        Some("must be from 128 to 8192 MiB (the version allows at most 8192)")
    );
    assert!(
        errors
            .message("resources.timeout_seconds")
            .is_some_and(|m| m.contains("at most 3600"))
    );
    let nan = Resources {
        vcpu: f64::NAN,
        ..DEFAULT
    };
    assert!(bounds.check(&nan, "resources").is_err());
    let fixed = ResourceBounds {
        default: DEFAULT,
        max: Resources {
            vcpu: Resources::MIN_VCPU,
            ..DEFAULT
        },
    };
    let errors = fixed.check(&DEFAULT, "resources").expect_err("above");
    assert_eq!(
        errors.message("resources.vcpu"),
        Some("must be 0.25 vCPU, the only value the version allows"),
        "not \"from 0.25 to 0.25\""
    );
}

#[test]
fn a_manifest_max_is_at_least_the_version_value_and_at_most_the_global_max() {
    let mut problems = Vec::new();
    assert_eq!(manifest_max(None, &DEFAULT, &mut problems), DEFAULT);
    let raised = RawMax {
        vcpu: Some(4.0),
        memory_mib: None,
        timeout_seconds: Some(7200),
    };
    let max = manifest_max(Some(raised), &DEFAULT, &mut problems);
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(
        max,
        Resources {
            vcpu: 4.0,
            memory_mib: 2048,
            timeout_seconds: 7200
        }
    );
    let wrong = RawMax {
        vcpu: Some(0.5),
        memory_mib: Some(Resources::MAX_MEMORY_MIB + 1),
        timeout_seconds: None,
    };
    manifest_max(Some(wrong), &DEFAULT, &mut problems);
    let paths: Vec<_> = problems.iter().map(|(path, _)| path.as_str()).collect();
    assert_eq!(paths, ["resources.max.vcpu", "resources.max.memory_mib"]);
    assert!(
        problems[0].1.contains("at least resources.vcpu (1)"),
        "{}",
        problems[0].1
    );
    assert!(
        problems[1].1.contains("at most 122880"),
        "{}",
        problems[1].1
    );
}

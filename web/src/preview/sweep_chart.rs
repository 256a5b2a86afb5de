//! A sweep's chart: the main line of each run on one time axis, coloured
//! by the value of the sweep's first varied input, so that runs with the
//! same value share a colour and the legend names each value once. Up to
//! eight values take the palette's distinct colours; more take a
//! sequential scale, light to dark, in the order of the values.

use super::chart::{Chart, MAX_SERIES, PALETTE, first_lines, has_points};

/// The most values a legend names; more are sampled evenly, the first
/// and the last kept.
pub const MAX_LEGEND: usize = 12;

/// The ends of the sequential scale: light blue to dark blue, both
/// readable on white.
const LIGHT: (u8, u8, u8) = (0x9e, 0xc5, 0xe8);
const DARK: (u8, u8, u8) = (0x08, 0x30, 0x6b);

/// One run's chart and the group (the index of its value) it belongs to.
#[derive(Debug, Clone)]
pub struct GroupedRun {
    pub group: usize,
    /// How the run is named in the chart's description: `#12`.
    pub label: String,
    pub chart: Chart,
}

/// The colour of each of `count` groups, in order.
pub fn group_colours(count: usize) -> Vec<String> {
    if count <= MAX_SERIES {
        return PALETTE[..count].iter().map(|&c| c.to_owned()).collect();
    }
    (0..count)
        .map(|i| {
            #[allow(clippy::cast_precision_loss)]
            let t = i as f64 / (count - 1) as f64;
            let mix = |light: u8, dark: u8| {
                let value = f64::from(light) + (f64::from(dark) - f64::from(light)) * t;
                #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                let byte = value.round().clamp(0.0, 255.0) as u8;
                byte
            };
            format!(
                "#{:02x}{:02x}{:02x}",
                mix(LIGHT.0, DARK.0),
                mix(LIGHT.1, DARK.1),
                mix(LIGHT.2, DARK.2)
            )
        })
        .collect()
}

/// At most `max` of `0..count`, evenly spread, the first and the last kept.
fn sample(count: usize, max: usize) -> Vec<usize> {
    if count <= max || max < 2 {
        return (0..count.min(max)).collect();
    }
    let mut picked: Vec<usize> = (0..max)
        .map(|k| (k * (count - 1) + (max - 1) / 2) / (max - 1))
        .collect();
    picked.dedup();
    picked
}

/// The runs' lines on one axis, each in its group's colour, with a legend
/// of the groups that have a line (`groups[i]` names group `i`). None when
/// no run has a value to draw.
pub fn grouped(runs: &[GroupedRun], groups: &[String]) -> Option<Chart> {
    let colours = group_colours(groups.len());
    let labelled: Vec<(String, Chart)> = runs
        .iter()
        .map(|run| (run.label.clone(), run.chart.clone()))
        .collect();
    let lines = first_lines(&labelled);
    let mut present = vec![false; groups.len()];
    let mut series = Vec::with_capacity(lines.len());
    for (run, line) in runs.iter().zip(lines) {
        let (Some(mut line), Some(colour)) = (line, colours.get(run.group)) else {
            continue;
        };
        line.colour = Some(colour.clone());
        present[run.group] = true;
        series.push(line);
    }
    let shown: Vec<usize> = (0..groups.len()).filter(|&g| present[g]).collect();
    let legend = sample(shown.len(), MAX_LEGEND)
        .into_iter()
        .map(|k| (groups[shown[k]].clone(), colours[shown[k]].clone()))
        .collect();
    let first = &runs.first()?.chart;
    let (x_label, units) = (first.x_label.clone(), first.units.clone());
    has_points(&series).then_some(Chart {
        x_label,
        units,
        series,
        legend: Some(legend),
        ..Chart::default()
    })
}

#[cfg(test)]
mod tests {
    use modelrun_core::display::NumberStyle;

    use super::*;
    use crate::preview::table::Table;

    fn run(id: i64, group: usize, revenue: [u32; 2]) -> GroupedRun {
        let csv = format!(
            "month,revenue\n2027-01,{}\n2027-02,{}\n",
            revenue[0], revenue[1]
        );
        GroupedRun {
            group,
            label: format!("#{id}"),
            chart: Chart::from_table(&Table::parse(&csv, 10, false)).expect("chart"),
        }
    }

    #[test]
    fn runs_of_one_value_share_its_colour_and_its_legend_line() {
        let runs = [run(1, 0, [1, 2]), run(2, 0, [2, 3]), run(3, 1, [3, 4])];
        let groups = ["growth 0.02".to_owned(), "growth 0.03".to_owned()];
        let chart = grouped(&runs, &groups).expect("chart");
        let colours: Vec<_> = chart.series.iter().map(|s| s.colour.clone()).collect();
        assert_eq!(colours[0], colours[1]);
        assert_ne!(colours[0], colours[2]);
        let legend = chart.legend.clone().expect("legend");
        assert_eq!(legend.len(), 2, "one line per value, not per run");
        assert_eq!(legend[0].0, "growth 0.02");
        let svg = chart.svg("s", "sweep", NumberStyle::PointDecimal);
        assert_eq!(svg.matches("<path").count(), 3, "every run is drawn");
        assert_eq!(svg.matches("chart-key").count(), 2, "each value once");
        assert!(!svg.contains("style="), "no inline CSS");
    }

    #[test]
    fn many_values_go_light_to_dark_and_the_legend_is_sampled_in_order() {
        let colours = group_colours(20);
        assert_eq!(colours.len(), 20);
        assert_eq!(colours[0], "#9ec5e8");
        assert_eq!(colours[19], "#08306b");
        let darkness = |c: &str| u32::from_str_radix(&c[1..3], 16).expect("hex");
        assert!(
            colours
                .windows(2)
                .all(|p| darkness(&p[0]) >= darkness(&p[1]))
        );
        assert_eq!(group_colours(3), ["#0072b2", "#d55e00", "#009e73"]);

        let runs: Vec<_> = (0..20).map(|g| run(g as i64, g, [1, 2])).collect();
        let groups: Vec<String> = (0..20).map(|g| format!("v{g}")).collect();
        let legend = grouped(&runs, &groups)
            .expect("chart")
            .legend
            .expect("legend");
        assert_eq!(legend.len(), MAX_LEGEND);
        assert_eq!(legend[0].0, "v0");
        assert_eq!(legend[MAX_LEGEND - 1].0, "v19");
        assert_eq!(sample(3, 12), [0, 1, 2]);
        assert_eq!(sample(0, 12), Vec::<usize>::new());
    }

    #[test]
    fn a_value_with_no_line_is_not_in_the_legend() {
        let runs = [run(1, 1, [1, 2]), run(2, 1, [2, 3])];
        let groups = ["a".to_owned(), "b".to_owned()];
        let legend = grouped(&runs, &groups)
            .expect("chart")
            .legend
            .expect("legend");
        assert_eq!(legend, [("b".to_owned(), PALETTE[1].to_owned())]);
        assert!(grouped(&[], &groups).is_none());
    }
}

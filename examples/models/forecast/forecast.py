"""Revenue forecast: the example model of modelrun.

Reads its inputs from the file named by MODELRUN_INPUTS and writes every
output to the directory named by MODELRUN_OUTPUT_DIR:

  forecast.csv  month, revenue, low, high (one row per month; a month of
                the actuals file has its known revenue, with low = high)
  metrics.json  key figures: total, average, final month, CAGR, ...

Standard library only. Exit code 0 means success; anything else is a failure
and the message on stderr says why: an actuals file whose month is not
YYYY-MM or whose revenue is not a finite number (naming the line), or that
lacks the month and revenue columns. What is read but not used (an empty
actuals file, months outside the forecast) is said in a note on stdout.
"""

import csv
import json
import math
import os
import re
import sys

# Monthly multipliers, January first. Each profile averages 1.0, so that
# seasonality moves revenue between months without changing the year's total.
PROFILES = {
    "none": [1.0] * 12,
    "retail": [0.85, 0.82, 0.92, 0.94, 0.98, 0.95, 0.93, 0.97, 0.96, 1.04, 1.22, 1.42],
    "summer": [0.82, 0.84, 0.9, 0.98, 1.06, 1.18, 1.24, 1.2, 1.04, 0.94, 0.9, 0.9],
    "b2b": [0.92, 0.95, 1.13, 0.92, 0.95, 1.13, 0.92, 0.95, 1.13, 0.92, 0.95, 1.13],
}


def progress(fraction, message):
    """Reports how far the run is: modelrun shows it as a bar (docs/models.md)."""
    print(f"::progress {fraction:.2f} {message}", flush=True)


def fail(message):
    print(f"forecast: {message}", file=sys.stderr)
    sys.exit(2)


def read_inputs(path):
    with open(path, encoding="utf-8") as handle:
        inputs = json.load(handle)
    try:
        year, month = (int(part) for part in inputs["start_month"].split("-"))
        return {
            "year": year,
            "month": month,
            "horizon": int(inputs["horizon_months"]),
            "base": float(inputs["base_revenue"]),
            "growth": float(inputs["growth_rate"]),
            "churn": float(inputs["churn_rate"]),
            "profile": PROFILES[inputs["seasonality"]],
            "campaigns": set(inputs.get("campaign_months") or []),
            "known": read_known(inputs.get("actuals")),
        }
    except (KeyError, ValueError) as error:
        fail(f"invalid inputs: {error!r}")


MONTH = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])")


def read_known(path):
    """Known revenue by month, from the optional actuals CSV (month, revenue).

    Fails, naming the line, on a month that is not YYYY-MM or a revenue
    that is not a finite number; an empty file is read as no months.
    """
    if not path:
        return {}
    name = os.path.basename(path)
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle)
            header = next(reader, None)
            if header is None:
                print(f"Note: {name} is empty; no known months are used")
                return {}
            columns = [column.strip().lower() for column in header]
            if "month" not in columns or "revenue" not in columns:
                expected = "actuals must be a comma-separated CSV whose first line names the columns month,revenue"
                if len(header) == 1 and ";" in header[0]:
                    fail(
                        f"{expected}; this file is separated by ';' (as German Excel saves it): "
                        "save it as comma-separated CSV (CSV UTF-8) and upload it again"
                    )
                fail(f"{expected}; its first line is {','.join(header)!r}")
            at_month, at_revenue = columns.index("month"), columns.index("revenue")
            known, lines = {}, {}
            for row in reader:
                if not any(cell.strip() for cell in row):
                    continue
                line = reader.line_num
                month = row[at_month].strip() if at_month < len(row) else ""
                text = row[at_revenue].strip() if at_revenue < len(row) else ""
                if not MONTH.fullmatch(month):
                    fail(f"actuals line {line}: month must look like 2027-01, got {month!r}")
                try:
                    revenue = float(text)
                except ValueError:
                    revenue = math.nan
                if not math.isfinite(revenue):
                    fail(f"actuals line {line}: revenue must be a finite number such as 12500.50, got {text!r}")
                if month in known:
                    print(f"Note: actuals line {line}: {month} was given on line {lines[month]} too; line {line} is used")
                known[month], lines[month] = revenue, line
    except UnicodeDecodeError:
        fail(f"{name} is not UTF-8 text: save it as CSV UTF-8 (comma-separated)")
    except csv.Error as error:
        fail(f"{name} cannot be read as CSV: {error}")
    if not known:
        print(f"Note: {name} has no rows; no known months are used")
    else:
        print(f"Read {len(known)} known months from {name}")
    return known


def note_outside(what, chosen, labels):
    """Prints a note for each month of `chosen` that the forecast does not cover."""
    first, last = labels[0], labels[-1]
    for month in sorted(chosen):
        if month < first:
            print(f"Note: {what} {month} is before the start month ({first}); not used")
        elif month > last:
            print(f"Note: {what} {month} is after the last month of the forecast ({last}); not used")


def months(year, month, count):
    """Yields (label, month index 0-11) for `count` months from year-month."""
    for offset in range(count):
        index = (month - 1 + offset) % 12
        yield f"{year + (month - 1 + offset) // 12:04d}-{index + 1:02d}", index


def forecast(p):
    rows = []
    # Net monthly factor: new business grows, churn takes its share.
    factor = (1 + p["growth"]) * (1 - p["churn"])
    for t, (label, index) in enumerate(months(p["year"], p["month"], p["horizon"]), start=1):
        if label in p["known"]:
            revenue = p["known"][label]
            rows.append((label, revenue, revenue, revenue))
            continue
        revenue = p["base"] * factor**t * p["profile"][index]
        if label in p["campaigns"]:
            revenue *= 1.10
        # The band widens with the square root of the horizon: ±5 % at one
        # month, about ±20 % at two years.
        spread = 0.05 + 0.03 * math.sqrt(t - 1)
        rows.append((label, revenue, revenue * (1 - spread), revenue * (1 + spread)))
    return rows, factor


def main():
    inputs_path = os.environ.get("MODELRUN_INPUTS")
    output_dir = os.environ.get("MODELRUN_OUTPUT_DIR")
    if not inputs_path or not output_dir:
        fail("MODELRUN_INPUTS and MODELRUN_OUTPUT_DIR must be set (run it with modelrun)")
    progress(0.05, "reading the inputs")
    p = read_inputs(inputs_path)
    if p["horizon"] < 1:
        fail(f"horizon_months must be at least 1, got {p['horizon']}")
    print(f"Forecasting {p['horizon']} months from {p['year']:04d}-{p['month']:02d}")
    print(f"Base revenue {p['base']:,.2f}, growth {p['growth']:.2%}, churn {p['churn']:.2%} a month")
    labels = [label for label, _ in months(p["year"], p["month"], p["horizon"])]
    note_outside("known month", p["known"], labels)
    note_outside("campaign month", p["campaigns"], labels)
    progress(0.3, "forecasting the months ahead")
    rows, factor = forecast(p)
    figures = [value for row in rows for value in row[1:]]
    if not all(math.isfinite(value) for value in figures + [sum(row[1] for row in rows)]):
        fail("the forecast's figures are too large to add up; check base_revenue and the actuals")

    progress(0.7, "writing forecast.csv")
    with open(os.path.join(output_dir, "forecast.csv"), "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["month", "revenue", "low", "high"])
        for label, revenue, low, high in rows:
            writer.writerow([label, f"{revenue:.2f}", f"{low:.2f}", f"{high:.2f}"])
    print(f"Wrote forecast.csv ({len(rows)} months)")

    revenues = [row[1] for row in rows]
    total = sum(revenues)
    metrics = {
        "total_revenue": round(total, 2),
        "average_monthly_revenue": round(total / len(rows), 2),
        "final_month_revenue": round(revenues[-1], 2),
        "peak_month_revenue": round(max(revenues), 2),
        # The annual growth rate that the monthly growth and churn imply.
        "cagr": round(factor**12 - 1, 6),
        "months": len(rows),
    }
    with open(os.path.join(output_dir, "metrics.json"), "w", encoding="utf-8") as handle:
        json.dump(metrics, handle, indent=2, allow_nan=False)
    print(f"Total revenue {total:,.2f}; implied annual growth {metrics['cagr']:.2%}")
    progress(1, "done")


if __name__ == "__main__":
    main()

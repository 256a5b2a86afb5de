"""Holt-Winters revenue forecast: an example model of modelrun with real
packages from PyPI (pandas, statsmodels; see requirements.txt).

Reads its inputs from MODELRUN_INPUTS, the history from history.csv beside
this file, and writes to MODELRUN_OUTPUT_DIR:

  forecast.csv  month, forecast, low, high: the months ahead
  history.csv   month, revenue, fitted: the history and the model's fit
  metrics.json  key figures: next year's total, growth over the last year,
                and the fit's error on the last year it did not see
"""

import json
import os
import sys

import numpy as np
import pandas as pd
from statsmodels.tsa.exponential_smoothing.ets import ETSModel

HERE = os.path.dirname(os.path.abspath(__file__))


def fail(message):
    print(f"holt-winters: {message}", file=sys.stderr)
    sys.exit(2)


def read_inputs():
    with open(os.environ["MODELRUN_INPUTS"], encoding="utf-8") as handle:
        inputs = json.load(handle)
    try:
        return {
            "horizon": int(inputs["horizon_months"]),
            "seasonal": {"multiplicative": "mul", "additive": "add"}[inputs["seasonality"]],
            "trend": inputs["trend"],
            "interval": float(inputs["interval"]),
        }
    except (KeyError, ValueError) as error:
        fail(f"invalid inputs: {error!r}")


def read_history():
    history = pd.read_csv(os.path.join(HERE, "history.csv"))
    index = pd.PeriodIndex(history["month"], freq="M")
    return pd.Series(history["revenue"].to_numpy(dtype=float), index=index.to_timestamp())


def fit(series, p):
    model = ETSModel(
        series,
        error="mul" if p["seasonal"] == "mul" else "add",
        trend=None if p["trend"] == "none" else "add",
        damped_trend=p["trend"] == "damped",
        seasonal=p["seasonal"],
        seasonal_periods=12,
    )
    return model.fit(disp=False)


def progress(fraction, message):
    """Reports how far the run is: modelrun shows it as a bar (docs/models.md)."""
    print(f"::progress {fraction:.2f} {message}", flush=True)


def main():
    progress(0.05, "reading the history")
    p = read_inputs()
    out = os.environ["MODELRUN_OUTPUT_DIR"]
    series = read_history()
    print(f"history: {len(series)} months, {series.index[0]:%Y-%m} to {series.index[-1]:%Y-%m}")

    # How well the model does on a year it has not seen.
    progress(0.2, "fitting without the last 12 months, to measure the error")
    holdout = fit(series[:-12], p).forecast(12)
    mape = float(np.mean(np.abs(holdout.to_numpy() / series[-12:].to_numpy() - 1)))
    print(f"error on the last 12 months, fitted without them: {mape:.1%}")

    progress(0.55, "fitting the seasonal model on the whole history")
    result = fit(series, p)
    frame = result.get_prediction(start=len(series), end=len(series) + p["horizon"] - 1)
    summary = frame.summary_frame(alpha=1 - p["interval"])
    months = pd.period_range(series.index[-1].to_period("M") + 1, periods=p["horizon"], freq="M")

    progress(0.85, "writing the forecast")
    forecast = pd.DataFrame(
        {
            "month": months.strftime("%Y-%m"),
            "forecast": summary["mean"].to_numpy().round(2),
            "low": summary["pi_lower"].to_numpy().round(2),
            "high": summary["pi_upper"].to_numpy().round(2),
        }
    )
    forecast.to_csv(os.path.join(out, "forecast.csv"), index=False)
    pd.DataFrame(
        {
            "month": series.index.strftime("%Y-%m"),
            "revenue": series.to_numpy().round(2),
            "fitted": result.fittedvalues.to_numpy().round(2),
        }
    ).to_csv(os.path.join(out, "history.csv"), index=False)

    next_year = float(forecast["forecast"].head(12).sum())
    last_year = float(series[-12:].sum())
    metrics = {
        "next_12_months_revenue": round(next_year, 2) if p["horizon"] >= 12 else None,
        "growth_vs_last_12_months": round(next_year / last_year - 1, 4) if p["horizon"] >= 12 else None,
        "holdout_mape": round(mape, 4),
        "months": p["horizon"],
    }
    with open(os.path.join(out, "metrics.json"), "w", encoding="utf-8") as handle:
        json.dump({k: v for k, v in metrics.items() if v is not None}, handle, indent=2)
    print(f"wrote {p['horizon']} months of forecast")
    progress(1, "done")


if __name__ == "__main__":
    main()

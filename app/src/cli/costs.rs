//! What runs cost and when budget months start: the prices of the AWS
//! Batch platform (the defaults of `modelrun_core::estimate`, or the
//! installation's own) and the installation's time zone.

use anyhow::bail;
use clap::Args;
use modelrun_core::config::BatchPlatform;
use modelrun_core::display::parse_time_zone;
use modelrun_core::estimate::{CostSettings, Prices};

#[derive(Debug, Args)]
pub(super) struct CostArgs {
    /// Dollars per vCPU-hour of a run on AWS Batch (default: the
    /// platform's us-east-1 on-demand price; see docs/operations.md).
    #[arg(long, env = "MODELRUN_PRICE_VCPU_HOUR")]
    price_vcpu_hour: Option<f64>,
    /// Dollars per GiB-hour of memory of a run on AWS Batch.
    #[arg(long, env = "MODELRUN_PRICE_GIB_HOUR")]
    price_gib_hour: Option<f64>,
    /// The region the prices are for, shown beside estimates.
    #[arg(long, env = "MODELRUN_PRICE_REGION")]
    price_region: Option<String>,
    /// When the prices were read (such as 2026-11-30), shown beside estimates.
    #[arg(long, env = "MODELRUN_PRICES_AS_OF")]
    prices_as_of: Option<String>,
    /// The installation's time zone: budget months start at midnight on
    /// the first in it (an IANA name such as Europe/Berlin).
    #[arg(long, env = "MODELRUN_TIME_ZONE", default_value = "UTC")]
    time_zone: String,
}

/// A price from the configuration: a finite number, not negative.
fn check_price(value: Option<f64>, flag: &str) -> anyhow::Result<Option<f64>> {
    match value {
        Some(price) if !price.is_finite() || price < 0.0 => bail!(
            "--{flag} must be a number of dollars, 0 or more (such as 0.04048); it is {price}"
        ),
        other => Ok(other),
    }
}

impl CostArgs {
    /// The settings for an installation whose runs execute on `platform`
    /// (`None`: the local executor, whose runs have no price).
    pub(super) fn settings(&self, platform: Option<BatchPlatform>) -> anyhow::Result<CostSettings> {
        let time_zone = parse_time_zone(&self.time_zone)
            .map_err(|why| anyhow::anyhow!("--time-zone (MODELRUN_TIME_ZONE): {why}"))?;
        let vcpu_hour = check_price(self.price_vcpu_hour, "price-vcpu-hour")?;
        let gib_hour = check_price(self.price_gib_hour, "price-gib-hour")?;
        let prices = platform.map(|platform| {
            let mut prices = Prices::default_for(platform);
            if vcpu_hour.is_some() || gib_hour.is_some() {
                prices.source = "configuration".to_owned();
            }
            prices.vcpu_hour = vcpu_hour.unwrap_or(prices.vcpu_hour);
            prices.gib_hour = gib_hour.unwrap_or(prices.gib_hour);
            if let Some(region) = &self.price_region {
                prices.region = region.clone();
            }
            if let Some(as_of) = &self.prices_as_of {
                prices.as_of = as_of.clone();
            }
            prices
        });
        Ok(CostSettings { prices, time_zone })
    }
}

//! Model images in Amazon ECR: one repository per model, named
//! `<prefix><model name>`, images tagged with the git sha of the commit
//! they were built from.

use async_trait::async_trait;
use aws_sdk_ecr::Client;
use aws_sdk_ecr::types::{DescribeImagesFilter, TagStatus};
use modelrun_core::config::EcrConfig;
use modelrun_core::manifest::valid_model_name;
use modelrun_core::registry::{PushedImage, Registry, RegistryError};
use regex::Regex;

use crate::aws::AwsFailure;

#[derive(Debug, Clone)]
pub struct EcrRegistry {
    client: Client,
    prefix: String,
    tags: Regex,
}

impl EcrRegistry {
    /// Fails when the tag pattern is not a regular expression.
    pub fn new(sdk: &aws_config::SdkConfig, config: EcrConfig) -> Result<Self, regex::Error> {
        Ok(EcrRegistry {
            client: Client::new(sdk),
            prefix: config.repository_prefix,
            tags: Regex::new(&config.tag_pattern)?,
        })
    }
}

fn unavailable(failure: AwsFailure) -> RegistryError {
    RegistryError(failure.message)
}

#[async_trait]
impl Registry for EcrRegistry {
    async fn images(&self) -> Result<Vec<PushedImage>, RegistryError> {
        let mut repositories = Vec::new();
        let mut pages = self.client.describe_repositories().into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = page
                .map_err(|error| unavailable(AwsFailure::new("ECR DescribeRepositories", error)))?;
            for repository in page.repositories() {
                let (Some(name), Some(uri)) =
                    (repository.repository_name(), repository.repository_uri())
                else {
                    continue;
                };
                if let Some(model) = name
                    .strip_prefix(self.prefix.as_str())
                    .filter(|m| valid_model_name(m))
                {
                    repositories.push((name.to_owned(), uri.to_owned(), model.to_owned()));
                }
            }
        }
        let mut images = Vec::new();
        for (name, uri, model) in repositories {
            let mut pages = self
                .client
                .describe_images()
                .repository_name(&name)
                .filter(
                    DescribeImagesFilter::builder()
                        .tag_status(TagStatus::Tagged)
                        .build(),
                )
                .into_paginator()
                .send();
            while let Some(page) = pages.next().await {
                let page = page
                    .map_err(|error| unavailable(AwsFailure::new("ECR DescribeImages", error)))?;
                for image in page.image_details() {
                    let Some(digest) = image.image_digest() else {
                        continue;
                    };
                    for tag in image
                        .image_tags()
                        .iter()
                        .filter(|tag| self.tags.is_match(tag))
                    {
                        images.push(PushedImage {
                            model: model.clone(),
                            tag: tag.clone(),
                            uri: format!("{uri}:{tag}"),
                            digest: digest.to_owned(),
                        });
                    }
                }
            }
        }
        images.sort_by(|a, b| (&a.model, &a.tag).cmp(&(&b.model, &b.tag)));
        Ok(images)
    }
}

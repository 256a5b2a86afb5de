//! Whether the job's image is in ECR, by the digest or tag the job
//! definition names (ECR `DescribeImages`).

use aws_config::Region;
use aws_sdk_ecr::Client as EcrClient;
use aws_sdk_ecr::operation::describe_images::DescribeImagesError;
use aws_sdk_ecr::types::ImageIdentifier;

use crate::aws::AwsFailure;

/// An image in an ECR registry, from its reference
/// `<account>.dkr.ecr.<region>.amazonaws.com/<repository>(:<tag>|@<digest>)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct EcrImage {
    pub account: String,
    pub region: String,
    pub repository: String,
    pub reference: Reference,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Reference {
    Tag(String),
    Digest(String),
}

impl EcrImage {
    /// `None` for an image that is not in an ECR registry. A reference
    /// with neither tag nor digest means the tag `latest`, as for Docker.
    pub(super) fn parse(image: &str) -> Option<Self> {
        let (host, path) = image.split_once('/')?;
        let mut parts = host.split('.');
        let account = parts.next()?;
        if parts.next()? != "dkr" || parts.next()? != "ecr" {
            return None;
        }
        let region = parts.next()?;
        let (repository, reference) = match path.split_once('@') {
            Some((repository, digest)) => (repository, Reference::Digest(digest.to_owned())),
            None => match path.rsplit_once(':') {
                Some((repository, tag)) if !tag.contains('/') => {
                    (repository, Reference::Tag(tag.to_owned()))
                }
                _ => (path, Reference::Tag("latest".to_owned())),
            },
        };
        Some(EcrImage {
            account: account.to_owned(),
            region: region.to_owned(),
            repository: repository.to_owned(),
            reference,
        })
    }

    fn described(&self) -> String {
        match &self.reference {
            Reference::Tag(tag) => format!("the image tagged {tag} in {}", self.repository),
            Reference::Digest(digest) => format!("the image {digest} in {}", self.repository),
        }
    }
}

/// What looking the image up found.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Lookup {
    /// The image is there.
    Found(String),
    /// The image, or its repository, is not: why, in words.
    Missing(String),
    /// The lookup could not be made: why.
    NotChecked(String),
}

/// Looks `image` up in its own registry and region.
pub(super) async fn look_up(ecr: &EcrClient, image: &str) -> Lookup {
    let Some(parsed) = EcrImage::parse(image) else {
        return Lookup::NotChecked(format!("{image} is not an image in ECR"));
    };
    let same_region = ecr
        .config()
        .region()
        .is_some_and(|region| region.to_string() == parsed.region);
    let client = if same_region {
        ecr.clone()
    } else {
        EcrClient::from_conf(
            ecr.config()
                .to_builder()
                .region(Region::new(parsed.region.clone()))
                .build(),
        )
    };
    let id = match &parsed.reference {
        Reference::Tag(tag) => ImageIdentifier::builder().image_tag(tag),
        Reference::Digest(digest) => ImageIdentifier::builder().image_digest(digest),
    };
    let answer = client
        .describe_images()
        .registry_id(&parsed.account)
        .repository_name(&parsed.repository)
        .image_ids(id.build())
        .send()
        .await;
    match answer {
        Ok(_) => Lookup::Found(format!("{} is there", parsed.described())),
        Err(error) => match error.as_service_error() {
            Some(DescribeImagesError::ImageNotFoundException(_)) => Lookup::Missing(format!(
                "{} is not there: the job cannot pull it",
                parsed.described()
            )),
            Some(DescribeImagesError::RepositoryNotFoundException(_)) => Lookup::Missing(format!(
                "the repository {} does not exist in registry {} ({}): the job cannot pull \
                     its image",
                parsed.repository, parsed.account, parsed.region
            )),
            _ => Lookup::NotChecked(AwsFailure::new("ECR DescribeImages", error).message),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_references_are_read() {
        let pinned = EcrImage::parse(
            "123456789012.dkr.ecr.eu-west-1.amazonaws.com/modelrun/forecast@sha256:abcd",
        )
        .expect("ecr");
        assert_eq!(pinned.account, "123456789012");
        assert_eq!(pinned.region, "eu-west-1");
        assert_eq!(pinned.repository, "modelrun/forecast");
        assert_eq!(
            pinned.reference,
            Reference::Digest("sha256:abcd".to_owned())
        );
        let tagged = EcrImage::parse(
            "123456789012.dkr.ecr.eu-west-1.amazonaws.com/modelrun/forecast:a1b2c3d",
        )
        .expect("ecr");
        assert_eq!(tagged.reference, Reference::Tag("a1b2c3d".to_owned()));
        let bare =
            EcrImage::parse("123456789012.dkr.ecr.eu-west-1.amazonaws.com/forecast").expect("ecr");
        assert_eq!(bare.reference, Reference::Tag("latest".to_owned()));
        assert_eq!(EcrImage::parse("docker.io/library/python:3.12"), None);
        assert_eq!(EcrImage::parse("python:3.12"), None);
    }
}

# The modelrun runtime image: the `modelrun` binary and nothing else worth
# mentioning. Model images copy the binary from it (see
# examples/models/forecast/Dockerfile); push it to ECR once per modelrun
# release:
#
#   docker build -t <account>.dkr.ecr.<region>.amazonaws.com/modelrun-runtime:<version> .
#   docker push <account>.dkr.ecr.<region>.amazonaws.com/modelrun-runtime:<version>
FROM public.ecr.aws/docker/library/rust:1.95-slim-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin modelrun

FROM public.ecr.aws/docker/library/debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/target/release/modelrun /usr/local/bin/modelrun
ENTRYPOINT ["modelrun"]

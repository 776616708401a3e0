//! Deploying versions outside the pipeline: exports that run anywhere, Docker images.
pub mod export;
pub mod image;

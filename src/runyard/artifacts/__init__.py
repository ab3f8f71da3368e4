"""Run files: one `ArtifactStore` over a local folder or any fsspec URL (s3://, gs://, az://)."""

from runyard.artifacts.store import ArtifactStore

__all__ = ["ArtifactStore"]

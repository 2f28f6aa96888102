"""Files on object storage (S3, a real SeaweedFS)."""

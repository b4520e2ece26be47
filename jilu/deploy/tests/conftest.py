from jilu.evidence.tests.conftest import s3_endpoint  # noqa: F401 (the S3 server fixture)

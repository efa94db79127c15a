//! Catalogues in object storage: `verify`, `report` and `show` on `s3://` against a real
//! S3-compatible server on 127.0.0.1 (s3s-fs, installed by scripts/test).

mod s3_verify;

#!/usr/bin/env python3
"""The DuckDB anchor of scripts/bench: selects the failed EKS access-management calls
from a CloudTrail archive, as `zcat | jq` and replay do, in DuckDB's fastest form
(read_json_objects, one JSON object per log file, then json_extract on its records;
faster here than read_json's schema inference), on every core. Prints the count.

  .tools/duckdb/bin/python benches/duckdb_select.py ARCHIVE_DIR CALL[,CALL...] [THREADS]
"""

import sys

import duckdb


def main():
    root, calls = sys.argv[1], sys.argv[2].split(",")
    threads = int(sys.argv[3]) if len(sys.argv) > 3 else 2
    db = duckdb.connect(config={"threads": threads})
    names = ", ".join("'%s'" % c for c in calls)
    query = """
        WITH records AS (
            SELECT unnest(json_extract(json, '$.Records[*]')) AS r
            FROM read_json_objects('%s/**/*.json.gz', format = 'auto', compression = 'gzip',
                                   maximum_object_size = 268435456)
        ), heads AS (
            SELECT json_extract_string(r, '$.eventSource') AS source, json_extract_string(r, '$.errorCode') AS code,
                   json_extract_string(r, '$.eventName') AS name
            FROM records
        )
        SELECT count(*) FROM heads
        WHERE code IS NOT NULL AND ((source = 'eks.amazonaws.com' AND (starts_with(code, 'AccessDenied') OR name IN (%s)))
                                    OR (source = 'eks-auth.amazonaws.com' AND name = 'AssumeRoleForPodIdentity'))
    """ % (root.replace("'", "''"), names)
    print(db.execute(query).fetchone()[0])


if __name__ == "__main__":
    main()

"""Check that the PostgreSQL and Redis named by DATABASE_URL and REDIS_URL answer."""

from __future__ import annotations

import os
import sys


def main() -> int:
    """Connect to each configured service; print what failed and return non-zero."""
    failures = []
    database_url = os.environ.get("DATABASE_URL", "")
    redis_url = os.environ.get("REDIS_URL", "")
    if not database_url or not redis_url:
        failures.append("set both DATABASE_URL and REDIS_URL")
    if database_url:
        import dj_database_url
        import psycopg

        db = dj_database_url.parse(database_url)
        try:
            psycopg.connect(
                host=db["HOST"],
                port=db["PORT"] or 5432,
                user=db["USER"],
                password=db["PASSWORD"] or None,
                dbname=db["NAME"],
                connect_timeout=5,
            ).close()
        except psycopg.Error as exc:
            failures.append(
                f"PostgreSQL at {db['HOST']}:{db['PORT']} is not reachable: {exc}"
            )
    if redis_url:
        import redis

        try:
            redis.Redis.from_url(redis_url, socket_connect_timeout=5).ping()
        except redis.RedisError as exc:
            failures.append(f"Redis at {redis_url} is not reachable: {exc}")
    for failure in failures:
        print(f"services check: {failure}", file=sys.stderr)
    if not failures:
        print("services check: PostgreSQL and Redis answer")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

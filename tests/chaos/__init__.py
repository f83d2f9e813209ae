"""Fault injection: workers, PostgreSQL and Redis fail while real jobs run, and no job is lost."""

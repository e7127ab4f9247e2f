"""The harness: recipe contract and configurations, fit/resume/distribute, timing, comparison, reports, CLI."""

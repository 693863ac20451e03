"""The JSON API base: health checks and the OpenAPI document."""

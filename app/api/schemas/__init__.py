"""Pydantic models of the API's requests and responses: the OpenAPI document is generated from them."""

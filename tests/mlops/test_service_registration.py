"""The served model's bookkeeping against a real SQLite MLflow store (registering it, with
ONNX export, is in the tiny default run: tests/test_model_server.py, tests/test_fault_injection.py)."""

from __future__ import annotations

from sketch_to_photo.mlops.service_registration import champion_version, service_of
from tests.conftest import mlflow_store


def test_no_champion_and_no_served_model_in_an_empty_store(tmp_path):
    with mlflow_store(tmp_path, "services") as client:
        assert champion_version(client, "sketch_to_photo") is None
        assert service_of(client, 1) is None


def test_the_served_model_of_a_generator_version_is_found_by_its_tag(tmp_path):
    with mlflow_store(tmp_path, "services") as client:
        client.create_registered_model("sketch_to_photo_service")
        for generator_version in (1, 2, 1):
            version = client.create_model_version("sketch_to_photo_service", "file:///nowhere")
            client.set_model_version_tag(
                "sketch_to_photo_service",
                version.version,
                "generator_version",
                str(generator_version),
            )
        client.create_registered_model("sketch_to_photo")
        client.create_model_version("sketch_to_photo", "file:///nowhere")
        client.set_registered_model_alias("sketch_to_photo", "champion", "1")
        assert (
            service_of(client, 1) == 3
            and service_of(client, 2) == 2
            and service_of(client, 5) is None
        )
        assert champion_version(client, "sketch_to_photo") == 1

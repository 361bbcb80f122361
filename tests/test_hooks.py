"""Project hooks: a run whose upstream outputs are missing stops first, naming what is missing
and which pipeline makes it (the other hooks are tested in tests/mlops/test_tracking.py and
tests/parameter_models/test_validation.py)."""

from __future__ import annotations

import mlflow
import pytest
from kedro.framework.project import configure_project
from kedro.framework.session import KedroSession
from kedro.io import DataCatalog, MemoryDataset
from mlflow import MlflowClient

from sketch_to_photo.hooks import (
    MissingUpstreamOutputError,
    missing_upstream_message,
    missing_upstream_outputs,
)
from sketch_to_photo.pipeline_registry import register_pipelines

EVALUATION_INPUTS = {
    "generator": "training",
    "training_history": "training",
    "sketch_classifier": "sketch_classifier",
    "pair_shards": "data_processing",
    "pairs_manifest": "data_processing",
}


def test_evaluation_on_a_fresh_project_names_each_missing_input_and_its_pipeline(project):
    with (
        KedroSession.create(project_path=project) as session,
        pytest.raises(MissingUpstreamOutputError) as raised,
    ):
        session.run(pipeline_names=["evaluation"])

    message = str(raised.value)
    for dataset, pipeline in EVALUATION_INPUTS.items():
        assert f"  - {dataset} (" in message and f"made by the {pipeline} pipeline" in message
    model_file = project / "data" / "06_models" / "generator.keras"
    assert f"generator ({model_file}): made by the training pipeline" in message
    assert "`kedro run --pipelines data_processing,sketch_classifier,training`" in message
    # stopped before kedro-mlflow's hook: no MLflow run was opened for nothing
    assert mlflow.active_run() is None
    store = f"sqlite:///{project / 'mlflow.db'}"
    experiments = (
        MlflowClient(store).search_experiments() if (project / "mlflow.db").exists() else []
    )
    assert not MlflowClient(store).search_runs([e.experiment_id for e in experiments])


def test_only_inputs_that_a_pipeline_makes_and_that_do_not_exist_are_reported():
    configure_project("sketch_to_photo")
    registered = register_pipelines()
    catalog = DataCatalog(
        {
            "pair_shards": MemoryDataset({"train/ant-00000.npz": None}),
            "pairs_manifest": MemoryDataset({"categories": ["ant"]}),
            "edge_map_shards": MemoryDataset(),  # declared but never written
        }
    )

    missing = missing_upstream_outputs(registered["training"], catalog, registered)

    assert missing == {"edge_map_shards": ["data_processing"]}
    # the user's folder and the registered model: no pipeline makes them, their datasets speak
    assert missing_upstream_outputs(registered["inference"], DataCatalog(), registered) == {}
    assert missing_upstream_outputs(registered["__default__"], DataCatalog(), registered) == {}
    message = missing_upstream_message(missing, catalog, env="cpu_real")
    assert "edge_map_shards: made by the data_processing pipeline" in message
    assert "`kedro run --pipelines data_processing --env cpu_real`" in message

"""Every parameter group of ``conf/`` as a typed model, checked before anything runs.

``kedro run`` merges ``conf/base``, the environment and ``--params`` into one dictionary; the
project's hook (:class:`sketch_to_photo.hooks.ParameterValidationHooks`) validates it with
:func:`validate_parameters` as soon as the context exists, so a wrong value or a misspelt key
stops the run before the first node with one message naming the key path, the value, what is
allowed and, for a typo, the closest valid key. The models hold the allowed values and ranges;
the YAML files hold the defaults (one source for each).

Nodes still receive the validated groups as plain dictionaries: kedro-mlflow flattens dictionary
parameters into the MLflow run (``training.epochs``, ...), which it cannot do for model objects.

One module per pipeline holds the models of its groups (:mod:`.data_acquisition`,
:mod:`.data_processing`, :mod:`.training`, :mod:`.sketch_classifier`, :mod:`.evaluation`,
:mod:`.inference`), :mod:`.field_types` the field types they share and :mod:`.validation` the
check and its messages.
"""

from sketch_to_photo.parameter_models.validation import (
    PARAMETER_GROUPS,
    ParameterError,
    validate_parameters,
)

__all__ = ["PARAMETER_GROUPS", "ParameterError", "validate_parameters"]

"""inference: user_sketches (a folder) + the served model -> photos, results CSV, contact sheet.

Not part of ``kedro run``'s default pipeline: run it with ``kedro run --pipelines inference``.
"""

from kedro.pipeline import Node, Pipeline

from .nodes import collect_photos, draw_contact_sheet, generate_photos, tabulate_outcomes


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                generate_photos,
                ["user_sketches", "service_model", "params:inference"],
                "inference_outcomes",
                name="generate_photos",
            ),
            Node(collect_photos, "inference_outcomes", "generated_photos", name="collect_photos"),
            Node(
                tabulate_outcomes,
                "inference_outcomes",
                "inference_results",
                name="tabulate_outcomes",
            ),
            Node(
                draw_contact_sheet,
                ["inference_outcomes", "params:inference"],
                "inference_contact_sheet",
                name="draw_contact_sheet",
            ),
        ]
    )

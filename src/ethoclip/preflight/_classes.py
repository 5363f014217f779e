"""Class names wherever a model meets data or labels (``test --data``, ``predict
--label-file``, ``load_from``): the same names in another order are remapped, and said so;
other names are refused with both lists. Without this, each class's counts are printed under
another class's name and nothing looks wrong."""

from __future__ import annotations

from collections.abc import Sequence

from ..errors import DatasetError


def class_order(
    model: Sequence[str], data: Sequence[str], *, model_source: str, data_source: str
) -> list[int] | None:
    """None when ``data`` names the model's classes in its order; else, for the same names in
    another order, ``order[j]`` = the position in ``data`` of the model's class ``j``."""
    model, data = list(model), list(data)
    if model == data:
        return None
    if sorted(model) == sorted(data) and len(set(model)) == len(model):
        return [data.index(name) for name in model]
    only_model = [n for n in model if n not in data]
    only_data = [n for n in data if n not in model]
    differ = (
        "; ".join(
            part
            for part in (
                f"only the model has {', '.join(only_model)}" if only_model else "",
                f"only the data has {', '.join(only_data)}" if only_data else "",
            )
            if part
        )
        or "the same names but repeated"
    )
    raise DatasetError(
        f"{data_source}: its classes are not the model's ({differ}). The model ({model_source}) "
        f"has {len(model)}: {', '.join(model)}; the data has {len(data)}: {', '.join(data)}. "
        "Use data prepared with the model's label map (prepare --label-map), or train a model "
        "on these labels"
    )


def describe_order(order: list[int], model: Sequence[str], data: Sequence[str]) -> str:
    """A note saying that (and how) names were matched by name rather than position."""
    moved = sum(1 for j, i in enumerate(order) if i != j)
    return (
        f"the data lists the model's {len(model)} classes in another order ({moved} moved); "
        f"matched by name (data: {', '.join(data)}; model: {', '.join(model)})"
    )

"""MLflow's runs/search over runyard's store: the filter and order_by become the store's
SQL conditions (mapping.py says what each MLflow term means), page tokens are offsets."""

from __future__ import annotations

from typing import Any, Literal, cast

from runyard.core.entities import RunDocument, RunFilter
from runyard.core.roles import Role
from runyard.mlflow import mapping
from runyard.mlflow.endpoints import Access, max_results, offset_token, route, view_type
from runyard.mlflow.errors import invalid
from runyard.mlflow.run_messages import run_messages
from runyard.mlflow.search import RUN_ORDER_ATTRIBUTES, parse_order_by, parse_run_filter

#: MLflow's bounds on search_runs' max_results (mlflow/utils/search_utils.py).
SEARCH_MAX_RESULTS_DEFAULT = 1000
SEARCH_MAX_RESULTS = 50_000
#: The store gives at most this many runs per call.
_STORE_PAGE = 10_000


def _experiment_ids(body: dict[str, Any]) -> tuple[int, ...]:
    ids = body.get("experiment_ids") or []
    if isinstance(ids, str):
        ids = [ids]
    if not isinstance(ids, list):
        raise invalid("Invalid value for parameter 'experiment_ids': expected a list of ids")
    numbers = []
    for experiment_id in ids:
        try:
            numbers.append(mapping.experiment_id_to_runyard(str(experiment_id)))
        except ValueError as exc:
            raise invalid(str(exc)) from None
    return tuple(numbers)


@route("POST", "runs/search", Role.READER)
def search_runs(access: Access, body: dict[str, Any]) -> dict[str, Any]:
    ids = _experiment_ids(body)
    lifecycle = mapping.lifecycle_of(view_type(body, "run_view_type"))
    conditions = mapping.run_conditions(parse_run_filter(body.get("filter")))
    order = mapping.run_orders(parse_order_by(body.get("order_by"), RUN_ORDER_ATTRIBUTES))
    wanted = max_results(body, SEARCH_MAX_RESULTS_DEFAULT, SEARCH_MAX_RESULTS)
    offset = offset_token(body)
    if not ids:
        return {}
    run_filter = RunFilter(
        experiment_ids=ids,
        include_children=True,
        lifecycle=cast(Literal["active", "deleted", "all"], lifecycle),
        conditions=conditions,
        order=order,
    )
    docs: list[RunDocument] = []
    token: str | None = str(offset)
    while len(docs) < wanted and token is not None:
        page, token = access.store.search_runs(
            run_filter, limit=min(_STORE_PAGE, wanted - len(docs)), page_token=token
        )
        docs.extend(page)
    answer: dict[str, Any] = {"runs": run_messages(access.store, docs)}
    if token:
        answer["next_page_token"] = token
    return answer

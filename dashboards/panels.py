"""What every board is built from: the data source and job variables, grid positions, and
query and panel shorthands (dashboards/generate.py writes the boards)."""

from __future__ import annotations

from typing import Any

from grafana_foundation_sdk.builders import dashboard, prometheus, stat, timeseries
from grafana_foundation_sdk.models.dashboard import DataSourceRef, GridPos

DATASOURCE = DataSourceRef(type_val="prometheus", uid="${datasource}")
JOB = 'job=~"$job"'
TAGS = ["domainwatch", "email", "dns"]


def query(expr: str, legend: str = "", ref: str = "A", *, instant: bool = False) -> prometheus.Dataquery:
    built = prometheus.Dataquery().expr(expr).ref_id(ref).legend_format(legend or "__auto")
    return built.instant().format("table") if instant else built


def variables(board: dashboard.Dashboard, *, with_domain: bool = False) -> dashboard.Dashboard:
    board = board.with_variable(
        dashboard.DatasourceVariable("datasource").label("Data source").type("prometheus")
    )
    board = board.with_variable(
        dashboard.QueryVariable("job")
        .label("Job")
        .datasource(DATASOURCE)
        .query("label_values(domainwatch_build_info, job)")
        .refresh(2)
        .include_all(True)
        .all_value(".+")
    )
    if with_domain:
        board = board.with_variable(
            dashboard.QueryVariable("domain")
            .label("Domain")
            .datasource(DATASOURCE)
            .query(f"label_values(domainwatch_domain_status{{{JOB}}}, domain)")
            .refresh(2)
        )
    return board


def at(x: int, y: int, w: int, h: int) -> GridPos:
    return GridPos(h=h, w=w, x=x, y=y)


def series(title: str, pos: GridPos, *targets: prometheus.Dataquery, unit: str = "") -> timeseries.Panel:
    panel = timeseries.Panel().title(title).datasource(DATASOURCE).grid_pos(pos)
    for target in targets:
        panel = panel.with_target(target)
    return panel.unit(unit) if unit else panel


def with_panels(board: dashboard.Dashboard, panels: list[Any]) -> dashboard.Dashboard:
    """Add the panels with stable ids (1, 2, ...) in reading order."""
    for number, panel in enumerate(panels, start=1):
        board = board.with_panel(panel.id(number))
    return board


def figure(title: str, pos: GridPos, target: prometheus.Dataquery, unit: str = "") -> stat.Panel:
    """One number (a stat panel)."""
    panel = stat.Panel().title(title).datasource(DATASOURCE).grid_pos(pos).with_target(target)
    return panel.unit(unit) if unit else panel

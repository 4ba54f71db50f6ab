"""The Kubernetes manifests (issue #34, item 4): every overlay renders (kubectl kustomize) and
validates strictly (scripts/validate-kubernetes.py, also in `make lint`), and what they render
reloads and rolls on config changes and is hardened."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from domainwatch.config.loader import load

ROOT = Path(__file__).resolve().parents[2]
OVERLAYS = ROOT / "deploy" / "kubernetes" / "overlays"


def render(overlay: str) -> dict[str, dict[str, Any]]:
    kubectl = shutil.which("kubectl")
    assert kubectl is not None, "kubectl is needed (Debian: kubernetes-client)"
    text = subprocess.run(
        [kubectl, "kustomize", str(OVERLAYS / overlay)], capture_output=True, text=True, check=True
    ).stdout
    return {f"{d['kind']}/{d['metadata']['name']}": d for d in yaml.safe_load_all(text) if d}


def test_every_overlay_renders_and_validates() -> None:
    done = subprocess.run(
        [sys.executable, ROOT / "scripts" / "validate-kubernetes.py"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert 0 == done.returncode, done.stderr
    assert {"single", "sharded", "ha"} <= {
        line.split("/")[-1].split(":")[0] for line in done.stdout.splitlines()
    }


@pytest.mark.parametrize("overlay", ["single", "sharded", "ha"])
def test_the_config_is_a_hashed_directory_mount_and_the_pod_is_hardened(overlay: str) -> None:
    manifests = render(overlay)
    (config,) = [name for name in manifests if name.startswith("ConfigMap/domainwatch-config-")]
    workload = manifests["Deployment/domainwatch" if overlay == "ha" else "StatefulSet/domainwatch"]
    pod = workload["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert (
        config.split("/")[1] == next(v for v in pod["volumes"] if v["name"] == "config")["configMap"]["name"]
    )
    mounts = {m["name"]: m for m in container["volumeMounts"]}
    assert "subPath" not in mounts["config"]  # a changed ConfigMap reaches the pod
    assert "/etc/domainwatch/config/config.yaml" in container["args"]
    assert container["securityContext"]["readOnlyRootFilesystem"]
    assert "emptyDir" in next(v for v in pod["volumes"] if v["name"] == "tmp")
    assert container["startupProbe"]["failureThreshold"] * container["startupProbe"]["periodSeconds"] >= 300
    assert {"PodDisruptionBudget/domainwatch", "NetworkPolicy/domainwatch"} <= set(manifests)
    egress = {
        p["port"] for rule in manifests["NetworkPolicy/domainwatch"]["spec"]["egress"] for p in rule["ports"]
    }
    assert {53, 25, 443} <= egress


def test_a_changed_config_changes_the_name_the_pods_use(tmp_path: Path) -> None:
    """configMapGenerator: the name carries a hash of config.yaml, so editing it rolls the pods."""
    copy = tmp_path / "kubernetes"
    shutil.copytree(ROOT / "deploy" / "kubernetes", copy)
    before = subprocess.run(
        ["kubectl", "kustomize", str(copy / "overlays" / "single")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    config = copy / "base" / "config.yaml"
    config.write_text(
        config.read_text() + "  - name: another.example.com\n    preset: resend\n    region: us-east-1\n"
    )
    after = subprocess.run(
        ["kubectl", "kustomize", str(copy / "overlays" / "single")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout

    def name(text: str) -> str:
        return str(
            next(
                d["metadata"]["name"]
                for d in yaml.safe_load_all(text)
                if d and d["kind"] == "ConfigMap" and d["metadata"]["name"].startswith("domainwatch-config-")
            )
        )

    assert name(before) != name(after)


def test_the_ha_overlay_runs_three_replicas_on_postgresql(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Deployment of 3 (no volume, no StatefulSet), the store's URL from the Secret, egress to
    PostgreSQL, and a config every replica loads as a cluster (docs/ha.md)."""
    manifests = render("ha")
    assert "StatefulSet/domainwatch" not in manifests
    workload = manifests["Deployment/domainwatch"]
    assert workload["spec"]["replicas"] == 3
    assert "volumeClaimTemplates" not in workload["spec"]
    assert manifests["PodDisruptionBudget/domainwatch"]["spec"]["maxUnavailable"] == 1
    assert manifests["Secret/domainwatch-secrets"]["stringData"]["database_url"].startswith("postgresql://")
    egress = {p["port"] for r in manifests["NetworkPolicy/domainwatch"]["spec"]["egress"] for p in r["ports"]}
    assert 5432 in egress
    (name,) = [n for n in manifests if n.startswith("ConfigMap/domainwatch-config-")]
    text = manifests[name]["data"]["config.yaml"]
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    for key, value in manifests["Secret/domainwatch-secrets"]["stringData"].items():
        (secrets / key).write_text(value)
    config_file = tmp_path / "config.yaml"
    config_file.write_text(text.replace("/etc/domainwatch/secrets", str(secrets)))
    pod = workload["spec"]["template"]["spec"]["containers"][0]
    assert {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}} in pod["env"]
    monkeypatch.setenv("POD_NAME", "domainwatch-7c9f-abcde")
    config = load(config_file)
    assert config.cluster.replica == "domainwatch-7c9f-abcde"
    assert config.clustered
    assert config.cluster.lease_ttl.total_seconds() == 15

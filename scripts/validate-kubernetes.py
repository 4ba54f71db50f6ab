"""`make lint`: render every kustomization under deploy/kubernetes (kubectl kustomize) and
validate what it renders, strictly: the Kubernetes kinds against kubernetes-validate's schemas,
the Prometheus Operator's ServiceMonitor and PrometheusRule against deploy/kubernetes/schemas/.
Prints one line per manifest set; exits 1 naming each problem."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import kubernetes_validate
import yaml

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy" / "kubernetes"
KUBERNETES_VERSION = "1.30.0"  # the oldest version the manifests promise (pod-index labels: 1.28)
CUSTOM = {
    ("monitoring.coreos.com/v1", "ServiceMonitor"): DEPLOY / "schemas" / "servicemonitor.json",
    ("monitoring.coreos.com/v1", "PrometheusRule"): DEPLOY / "schemas" / "prometheusrule.json",
}


def rendered(directory: Path, kubectl: str) -> list[dict[str, object]]:
    done = subprocess.run([kubectl, "kustomize", str(directory)], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise ValueError(f"kubectl kustomize failed: {done.stderr.strip()}")
    return [doc for doc in yaml.safe_load_all(done.stdout) if doc]


def problems_of(document: dict[str, object]) -> list[str]:
    key = (str(document.get("apiVersion")), str(document.get("kind")))
    name = f"{key[1]}/{(document.get('metadata') or {}).get('name')}"  # type: ignore[union-attr]
    if key in CUSTOM:
        schema = json.loads(CUSTOM[key].read_text())
        return [f"{name}: {e.message} at {'/'.join(map(str, e.path))}"
                for e in jsonschema.Draft202012Validator(schema).iter_errors(document)]  # fmt: skip
    try:
        kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as exc:
        return [f"{name}: {exc.message} at {'/'.join(map(str, exc.path))}"]
    except kubernetes_validate.SchemaNotFoundError:
        return [f"{name}: no schema for {key[0]} {key[1]}"]
    return []


def main() -> int:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        print("validate-kubernetes: kubectl is not installed (Debian: kubernetes-client)", file=sys.stderr)
        return 1
    directories = sorted({p.parent for p in DEPLOY.rglob("kustomization.yaml")} - {DEPLOY / "base"})
    failed = False
    for directory in directories:
        where = directory.relative_to(ROOT)
        try:
            documents = rendered(directory, kubectl)
        except ValueError as exc:
            print(f"{where}: {exc}", file=sys.stderr)
            failed = True
            continue
        problems = [p for d in documents for p in problems_of(d)]
        for problem in problems:
            print(f"{where}: {problem}", file=sys.stderr)
        failed = failed or bool(problems)
        print(f"{where}: {len(documents)} manifests, {'invalid' if problems else 'valid'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

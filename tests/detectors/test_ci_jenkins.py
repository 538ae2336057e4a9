"""CI detectors on Jenkinsfiles (declarative and scripted Groovy)."""

from __future__ import annotations

from conftest import MakeRepo, by_signal, detect, detect_with_context
from maturity_probe.detectors.ci.jenkins import parse_groovy, tokenize

TRAIN_PY = """\
import torch
from torch import nn, optim

model = nn.Sequential(nn.Linear(32, 64), nn.ReLU(), nn.Linear(64, 1))
optimizer = optim.Adam(model.parameters(), lr=1e-3)
for epoch in range(10):
    optimizer.zero_grad()
    loss = nn.functional.mse_loss(model(torch.randn(128, 32)), torch.randn(128, 1))
    loss.backward()
    optimizer.step()
torch.save(model.state_dict(), "model.pt")
"""

DECLARATIVE = """\
// Nightly retraining of the forecasting model
pipeline {
    agent { docker { image 'python:3.11' } }
    triggers {
        cron('H 3 * * 1-5')
        // cron('H */4 * * *')
    }
    options { timestamps() }
    stages {
        stage('Test') {
            steps {
                sh 'pip install -r requirements.txt'
                sh "pytest -q --junitxml=reports/junit.xml"
            }
        }
        stage('Train') {
            steps {
                sh '''
                    export PYTHONPATH=src
                    python src/train.py --epochs 10
                '''
            }
        }
        stage('Deploy') {
            input {
                message "Promote the new model to production?"
                ok "Deploy"
            }
            steps {
                sh(script: "kubectl apply -f k8s/isvc.yaml", returnStatus: true)
            }
        }
    }
    post {
        always { junit 'reports/*.xml' }
    }
}
"""

ISVC_YAML = """\
apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata:
  name: forecast
spec:
  predictor:
    pytorch:
      storageUri: gs://models/forecast
"""


def test_tokenizer_drops_comments_but_keeps_strings() -> None:
    tokens = tokenize("sh 'echo // not a comment' // real comment\n/* cron('x') */ cron(\"y\")")
    assert [(t.kind, t.value) for t in tokens if t.kind != "newline"] == [
        ("ident", "sh"), ("string", "echo // not a comment"), ("ident", "cron"),
        ("punct", "("), ("string", "y"), ("punct", ")"),
    ]
    [pipeline] = parse_groovy("pipeline {\n  stages { stage('a') { steps { sh 'ls' } } }\n}\n")
    assert pipeline.name == "pipeline" and pipeline.block is not None


def test_declarative_pipeline_stages_cron_and_input(make_repo: MakeRepo) -> None:
    root = make_repo({"Jenkinsfile": DECLARATIVE, "src/train.py": TRAIN_PY,
                      "k8s/isvc.yaml": ISVC_YAML})
    findings = detect(root)

    [pipeline] = by_signal(findings, "ci.pipeline")
    assert pipeline.attributes["job_names"] == ["Test", "Train", "Deploy"]
    assert pipeline.line == 2

    [test] = by_signal(findings, "ci.test_job")
    assert (test.attributes["job"], test.line) == ("Test", 10)
    [training] = by_signal(findings, "ci.training_job")
    assert training.line == 16
    assert "runs `python src/train.py --epochs 10`" in training.summary
    assert "runs a training loop" in training.summary

    [scheduled] = by_signal(findings, "retrain.scheduled")  # the commented cron is ignored
    assert (scheduled.attributes["cron"], scheduled.line) == ("H 3 * * 1-5", 5)

    [gated] = by_signal(findings, "ci.gated_release")
    assert gated.attributes["job"] == "Deploy"


def test_commented_out_triggers_block_is_no_schedule(make_repo: MakeRepo) -> None:
    jenkinsfile = """\
pipeline {
    agent any
    /*
    triggers {
        cron('@midnight')
    }
    */
    stages {
        stage('Retrain') {
            steps { sh 'python src/train.py' }
        }
    }
}
"""
    root = make_repo({"Jenkinsfile": jenkinsfile, "src/train.py": TRAIN_PY})
    findings = detect(root)
    assert by_signal(findings, "retrain.scheduled") == []
    [training] = by_signal(findings, "ci.training_job")
    assert training.attributes["triggers"] == ["push"]


def test_when_triggered_by_timer_and_disabled_stage(make_repo: MakeRepo) -> None:
    jenkinsfile = """\
pipeline {
    agent any
    triggers {
        parameterizedCron('''
            H 2 * * * %RETRAIN=true
        ''')
        upstream(upstreamProjects: 'drift-monitor', threshold: hudson.model.Result.SUCCESS)
    }
    stages {
        stage('Only on push') {
            when { not { triggeredBy 'TimerTrigger' } }
            steps { sh 'python src/train.py' }
        }
        stage('Only on timer') {
            when { triggeredBy 'TimerTrigger' }
            steps { sh 'python src/train.py' }
        }
        stage('Switched off') {
            when { expression { return false } }
            steps { sh 'python src/train.py' }
        }
        stage('On data change') {
            when { changeset 'data/**/*.csv' }
            steps { sh 'python src/train.py' }
        }
    }
}
"""
    root = make_repo({"Jenkinsfile": jenkinsfile, "src/train.py": TRAIN_PY})
    findings = detect(root)
    training = {f.attributes["job"] for f in by_signal(findings, "ci.training_job")}
    assert training == {"Only on push", "Only on timer", "On data change"}
    scheduled = by_signal(findings, "retrain.scheduled")
    assert {tuple(f.attributes["jobs"]) for f in scheduled} == {("Only on timer", "On data change")}
    assert scheduled[0].attributes["cron"] == "H 2 * * *"
    # the upstream job is named for drift monitoring; the timer-only stage does not run on it
    [alert] = by_signal(findings, "retrain.on_alert")
    assert alert.attributes["jobs"] == ["Only on push", "On data change"]
    assert alert.attributes["detail"] == "drift-monitor"
    [data] = by_signal(findings, "retrain.on_data_change")
    assert data.attributes["paths"] == ["data/**/*.csv"]


def test_scripted_pipeline_with_pipeline_triggers(make_repo: MakeRepo) -> None:
    jenkinsfile = """\
properties([pipelineTriggers([cron('H H(0-6) * * 0')])])

node('gpu') {
    stage('Checkout') {
        checkout scm
    }
    stage('Train') {
        withCredentials([string(credentialsId: 'mlflow', variable: 'TOKEN')]) {
            sh "python src/train.py --run-name ${env.BUILD_ID}"
        }
    }
    stage('Image') {
        def image = docker.build("registry.example.invalid/forecast:${env.BUILD_ID}")
        image.push()
    }
}
"""
    root = make_repo({"ci/Jenkinsfile.train": jenkinsfile, "src/train.py": TRAIN_PY})
    findings = detect(root)
    [scheduled] = by_signal(findings, "retrain.scheduled")
    assert scheduled.attributes["cron"] == "H H(0-6) * * 0"
    assert scheduled.path == "ci/Jenkinsfile.train"
    [build] = by_signal(findings, "ci.build_job")
    assert build.attributes["job"] == "Image"


def test_unbalanced_jenkinsfile_warns_with_line(make_repo: MakeRepo) -> None:
    broken = "pipeline {\n  stages {\n    stage('x') {\n      steps { sh 'make' }\n  }\n}\n"
    root = make_repo({"Jenkinsfile": broken, "Jenkinsfile.release": DECLARATIVE,
                      "src/train.py": TRAIN_PY})
    findings, ctx = detect_with_context(root)
    assert any(w.startswith("Jenkinsfile:") and "unbalanced" in w for w in ctx.warnings)
    assert [f.path for f in by_signal(findings, "ci.pipeline")] == ["Jenkinsfile.release"]

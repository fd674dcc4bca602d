"""A tiny training run of the fraud scorer under the TrainingJob contract (mlops_run.py): the data
pinned by md5 from the team's DVC remote, a logistic regression with the run's parameters, its metrics,
and the model registered as MLOPS_REGISTERED_MODEL. The e2e tier runs it against the real MLflow."""
import json

import mlflow
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score

import mlops_run


def main():
    with mlops_run.training_run() as run:
        data = pd.read_csv(mlops_run.fetch_data())
        params = mlops_run.parameters()
        X, y = data[["amount", "hour"]], data["fraud"]
        model = LogisticRegression(C=float(params.get("C", 1.0)), max_iter=int(params.get("max_iter", 100))).fit(X, y)
        mlflow.log_metric("train_accuracy", accuracy_score(y, model.predict(X)))
        mlflow.log_metric("rows", len(data))
        mlflow.log_dict({"rows": len(data), "fraud_share": float(y.mean())}, "data_summary.json")
        info = mlflow.sklearn.log_model(model, name="model", registered_model_name=mlops_run.registered_model(), input_example=X.head(2))
        print(json.dumps({"run_id": run.info.run_id, "model_version": getattr(info, "registered_model_version", None)}))


if __name__ == "__main__":
    main()

"""Prediction logs for the drift-check suite, written by the example model server's own log-writing code.

The PredictionLog class of examples/team-fraud/model-server/server.py (what a model server runs to log
sampled requests as JSON lines under PREDICTION_LOG_URI) is taken from the server's source and run here
with logging on and a sample rate of 1, without the rest of the server (MLflow, the HTTP server). The
instances are fraud transactions of the example's schema; --shift moves amounts and countries.

  python prediction_logs.py logs --server <server.py> --log-uri s3://b/p/ --model m --version 3 --count 500 [--shift]
  python prediction_logs.py training --count 2000 --output training.jsonl

The S3 endpoint comes from boto3's environment (AWS_ENDPOINT_URL_S3).
"""

import argparse
import ast
import json
import logging
import math
import random
import sys
import threading
import time
import uuid
from datetime import datetime, timezone

CURRENCIES = ["EUR", "GBP", "USD", "CHF", "SEK"]
COUNTRIES = ["DE", "FR", "GB", "NL", "SE"]
SHIFTED_COUNTRIES = ["BR", "NG", "US", "VN", "ID"]
CATEGORIES = ["5411", "5812", "5999", "4111", "7011"]


def instance(rng, shift):
    amount = round(rng.lognormvariate(3.5, 1.0) * (8 if shift else 1), 2)
    return {
        "amount": amount,
        "currency": rng.choice(CURRENCIES),
        "merchant_category": rng.choice(CATEGORIES),
        "country": rng.choice(SHIFTED_COUNTRIES if shift else COUNTRIES),
        "card_present": rng.random() < 0.7,
        "hour_of_day": rng.randrange(24),
    }


def score(inst):
    """A stand-in fraud score: grows with the amount and with card-not-present."""
    z = math.log1p(inst["amount"]) - 5.5 + (0 if inst["card_present"] else 1.0)
    return 1 / (1 + math.exp(-z))


def server_prediction_log(server_path, log_uri, model, version):
    """The server's PredictionLog class, compiled from its source with the module globals it reads."""
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    with open(server_path, encoding="utf-8") as f:
        tree = ast.parse(f.read(), server_path)
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "PredictionLog")

    class Errors:
        """Stands in for the server's S3 error counter: an error fails the fixture instead."""

        def labels(self, **labels):
            raise RuntimeError(f"the prediction log was not written: {labels}")

    namespace = {
        "json": json, "random": random, "threading": threading, "time": time, "uuid": uuid,
        "datetime": datetime, "timezone": timezone, "boto3": boto3, "ClientError": ClientError, "BotoCoreError": BotoCoreError,
        "LOG_ENABLED": True, "LOG_RATE": 1.0, "LOG_URI": log_uri, "MODEL": model, "VERSION": version,
        "S3_ERRORS": Errors(), "L": {}, "log": logging.getLogger("prediction-log"),
    }
    exec(compile(ast.Module(body=[cls], type_ignores=[]), server_path, "exec"), namespace)
    return namespace["PredictionLog"]()


def main(argv):
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    logs = sub.add_parser("logs")
    logs.add_argument("--server", required=True)
    logs.add_argument("--log-uri", required=True)
    logs.add_argument("--model", required=True)
    logs.add_argument("--version", required=True)
    logs.add_argument("--count", type=int, required=True)
    logs.add_argument("--shift", action="store_true")
    logs.add_argument("--seed", type=int, default=1)
    training = sub.add_parser("training")
    training.add_argument("--count", type=int, required=True)
    training.add_argument("--output", required=True)
    training.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    if args.command == "training":
        with open(args.output, "w", encoding="utf-8") as f:
            for _ in range(args.count):
                inst = instance(rng, False)
                f.write(json.dumps({"input": inst, "prediction": score(inst)}) + "\n")
        return
    prediction_log = server_prediction_log(args.server, args.log_uri, args.model, args.version)
    for _ in range(args.count):
        inst = instance(rng, args.shift)
        prediction_log.add(inst, score(inst))
    prediction_log.flush()


if __name__ == "__main__":
    main(sys.argv[1:])

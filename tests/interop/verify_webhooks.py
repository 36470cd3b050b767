"""Verifies Assent's webhook deliveries with the `standardwebhooks` package, an implementation of
the Standard Webhooks specification that Assent shares no code with.

Usage: verify_webhooks.py SECRET DELIVERIES_JSON
DELIVERIES_JSON is a list of {"headers": {...}, "body": "..."}; every one must verify.
Prints the event types and exits 0 when all verify; exits 1 at the first that does not.
"""

import json
import sys

from standardwebhooks.webhooks import Webhook


def main() -> int:
    hook = Webhook(sys.argv[1])
    deliveries = json.load(open(sys.argv[2], encoding="utf-8"))
    for delivery in deliveries:
        try:
            event = hook.verify(delivery["body"], delivery["headers"])
        except Exception as e:  # the package raises its own WebhookVerificationError
            print("refused:", type(e).__name__, e)
            return 1
        print(event["type"])
    return 0


if __name__ == "__main__":
    sys.exit(main())

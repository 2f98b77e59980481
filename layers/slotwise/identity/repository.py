"""Users in the single table: `USER#<id>/PROFILE`, unique e-mail through `EMAIL#<email>/EMAIL` in one transaction."""

from __future__ import annotations

from slotwise import aws
from slotwise.data.codec import to_item
from slotwise.data.dynamo import table_name, translate_errors
from slotwise.identity.models import User


def put_user(user: User) -> bool:
    """Store a new user; False when the id or e-mail is taken (nothing written)."""
    client = aws.dynamodb()
    profile = to_item(
        {
            "PK": f"USER#{user.id}",
            "SK": "PROFILE",
            "type": "user",
            "GSI1PK": f"ROLE#{user.role}",
            "GSI1SK": f"USER#{user.id}",
            **user.model_dump(mode="json", by_alias=True),
        }
    )
    email = to_item({"PK": f"EMAIL#{user.email.lower()}", "SK": "EMAIL", "type": "email", "userId": user.id})
    with translate_errors("TransactWriteItems"):
        try:
            client.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": table_name(),
                            "Item": profile,
                            "ConditionExpression": "attribute_not_exists(PK)",
                        }
                    },
                    {
                        "Put": {
                            "TableName": table_name(),
                            "Item": email,
                            "ConditionExpression": "attribute_not_exists(PK)",
                        }
                    },
                ]
            )
        except client.exceptions.TransactionCanceledException:
            return False
    return True

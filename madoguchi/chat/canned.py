"""Canned greetings for the agent's chat composer (one click puts one in the box)."""

GREETINGS = [
    "お問い合わせいただきありがとうございます。担当の{agent}です。",
    "お待たせして申し訳ございません。",
    "確認いたしますので、少々お待ちください。",
    "ご不便をおかけしており、申し訳ございません。",
    "ご注文番号を教えていただけますでしょうか。",
    "ほかにご不明な点はございますか。",
]

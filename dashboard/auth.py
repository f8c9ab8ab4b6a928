"""Optional access control: a shared password and/or a trusted reverse-proxy header.

With neither configured (``dashboard.settings.Access``) the dashboard is open — it binds
to 127.0.0.1 unless told otherwise. With a password, nothing but the sign-in form renders
until the right password is given (compared in constant time, ``hmac.compare_digest``).
With a user header, a request without it (one that did not come through the proxy) sees
only a refusal; the header's value is the user, recorded with curation changes.
"""

from __future__ import annotations

import hmac
from typing import Mapping

import streamlit as st

from dashboard.settings import Access, access_from

SIGNED_IN = "iceberg_signed_in"


def password_matches(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def user_from_headers(headers: Mapping[str, str], header: str) -> str | None:
    """The proxy's user header (case-insensitive), stripped; None when absent or empty."""
    wanted = header.lower()
    for name, value in headers.items():
        if name.lower() == wanted and str(value).strip():
            return str(value).strip()
    return None


def _secrets() -> dict:
    try:
        return dict(st.secrets)
    except Exception:   # noqa: BLE001 — no secrets.toml (or an unreadable one) means no secrets
        return {}


def signed_in_user() -> str | None:
    """Stop the script (after saying why, or showing the sign-in form) unless the visitor
    may see the data; returns the user when a proxy header names one."""
    access: Access = access_from(secrets=_secrets())
    user = None
    if access.user_header:
        user = user_from_headers(dict(st.context.headers or {}), access.user_header)
        if user is None:
            st.error(f"This dashboard only answers requests that come through its sign-in proxy "
                     f"(the {access.user_header} header is missing).")
            st.stop()
    if access.password and not st.session_state.get(SIGNED_IN):
        st.title("Iceberg")
        with st.form("sign_in"):
            given = st.text_input("Password", type="password")
            submitted = st.form_submit_button("Sign in")
        if submitted and password_matches(given, access.password):
            st.session_state[SIGNED_IN] = True
            st.rerun()
        if submitted:
            st.error("Wrong password.")
        st.stop()
    return user

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * eddsa_sig.c - Ed25519 and Ed448: one-shot digest sign and verify, as in the default provider
 * (no separate sign_init, no streaming). Signing is offloaded. A digest-sign init with no key
 * reuses the context's key: openssl speed re-initialises that way before every signature.
 */
#include "message_sig.h"

UO_ONESHOT_SIGNATURE(ed25519, UO_FAM_ED25519);
UO_ONESHOT_SIGNATURE(ed448, UO_FAM_ED448);

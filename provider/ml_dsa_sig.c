/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ml_dsa_sig.c - ML-DSA-44/65/87 signatures (FIPS 204): message sign and verify, and one-shot
 * digest sign and verify with no digest (message_sig.h). Signing is offloaded. Context strings,
 * deterministic signing and the other parameters pass through to the inner context.
 */
#include "message_sig.h"

UO_MESSAGE_SIGNATURE(ml_dsa_44, UO_FAM_ML_DSA_44);
UO_MESSAGE_SIGNATURE(ml_dsa_65, UO_FAM_ML_DSA_65);
UO_MESSAGE_SIGNATURE(ml_dsa_87, UO_FAM_ML_DSA_87);

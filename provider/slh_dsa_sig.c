/* SPDX-License-Identifier: Apache-2.0 */
/*
 * slh_dsa_sig.c - SLH-DSA signatures (FIPS 205), whose signing takes milliseconds: message sign
 * and verify, and one-shot digest sign and verify with no digest (message_sig.h). Signing is
 * offloaded.
 */
#include "message_sig.h"

UO_MESSAGE_SIGNATURE(slh_dsa_sha2_128s, UO_FAM_SLH_DSA_SHA2_128S);
UO_MESSAGE_SIGNATURE(slh_dsa_sha2_128f, UO_FAM_SLH_DSA_SHA2_128F);
UO_MESSAGE_SIGNATURE(slh_dsa_sha2_192s, UO_FAM_SLH_DSA_SHA2_192S);
UO_MESSAGE_SIGNATURE(slh_dsa_sha2_192f, UO_FAM_SLH_DSA_SHA2_192F);
UO_MESSAGE_SIGNATURE(slh_dsa_sha2_256s, UO_FAM_SLH_DSA_SHA2_256S);
UO_MESSAGE_SIGNATURE(slh_dsa_sha2_256f, UO_FAM_SLH_DSA_SHA2_256F);
UO_MESSAGE_SIGNATURE(slh_dsa_shake_128s, UO_FAM_SLH_DSA_SHAKE_128S);
UO_MESSAGE_SIGNATURE(slh_dsa_shake_128f, UO_FAM_SLH_DSA_SHAKE_128F);
UO_MESSAGE_SIGNATURE(slh_dsa_shake_192s, UO_FAM_SLH_DSA_SHAKE_192S);
UO_MESSAGE_SIGNATURE(slh_dsa_shake_192f, UO_FAM_SLH_DSA_SHAKE_192F);
UO_MESSAGE_SIGNATURE(slh_dsa_shake_256s, UO_FAM_SLH_DSA_SHAKE_256S);
UO_MESSAGE_SIGNATURE(slh_dsa_shake_256f, UO_FAM_SLH_DSA_SHAKE_256F);

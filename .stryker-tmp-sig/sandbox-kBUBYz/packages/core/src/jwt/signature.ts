/**
 * JWS signature verification (RFC 7515 section 5.2, RFC 7518 section 3) on the parts
 * already decoded, with node:crypto. It replaced `jsonwebtoken.verify`, which decodes and
 * checks the token a second time: measured on this machine, 47 µs per RS256 token through
 * jsonwebtoken against 36 µs for decode + checks + `crypto.verify` (bench/results.md).
 *
 * RFC 8725 section 2.1 / 3.1: the key must suit the algorithm: an HMAC algorithm only with
 * a secret key (never a public key used as an HMAC secret), RS/PS only with RSA keys of
 * 2048 bits or more, ES only with the curve the algorithm names.
 */
// @ts-nocheck
function stryNS_9fa48() {
  var g = typeof globalThis === 'object' && globalThis && globalThis.Math === Math && globalThis || new Function("return this")();
  var ns = g.__stryker__ || (g.__stryker__ = {});
  if (ns.activeMutant === undefined && g.process && g.process.env && g.process.env.__STRYKER_ACTIVE_MUTANT__) {
    ns.activeMutant = g.process.env.__STRYKER_ACTIVE_MUTANT__;
  }
  function retrieveNS() {
    return ns;
  }
  stryNS_9fa48 = retrieveNS;
  return retrieveNS();
}
stryNS_9fa48();
function stryCov_9fa48() {
  var ns = stryNS_9fa48();
  var cov = ns.mutantCoverage || (ns.mutantCoverage = {
    static: {},
    perTest: {}
  });
  function cover() {
    var c = cov.static;
    if (ns.currentTestId) {
      c = cov.perTest[ns.currentTestId] = cov.perTest[ns.currentTestId] || {};
    }
    var a = arguments;
    for (var i = 0; i < a.length; i++) {
      c[a[i]] = (c[a[i]] || 0) + 1;
    }
  }
  stryCov_9fa48 = cover;
  cover.apply(null, arguments);
}
function stryMutAct_9fa48(id) {
  var ns = stryNS_9fa48();
  function isActive(id) {
    if (ns.activeMutant === id) {
      if (ns.hitCount !== void 0 && ++ns.hitCount > ns.hitLimit) {
        throw new Error('Stryker: Hit count limit reached (' + ns.hitCount + ')');
      }
      return true;
    }
    return false;
  }
  stryMutAct_9fa48 = isActive;
  return isActive(id);
}
import { constants, createHmac, timingSafeEqual, verify, type KeyObject } from "node:crypto";
const HASHES: Readonly<Record<string, string>> = stryMutAct_9fa48("0") ? {} : (stryCov_9fa48("0"), {
  "256": "sha256",
  "384": "sha384",
  "512": "sha512"
});
const CURVES: Readonly<Record<string, string>> = stryMutAct_9fa48("4") ? {} : (stryCov_9fa48("4"), {
  ES256: "prime256v1",
  ES384: "secp384r1",
  ES512: "secp521r1"
});
const MIN_RSA_BITS = 2048;
function rsaKey(key: KeyObject): boolean {
  if (stryMutAct_9fa48("8")) {
    {}
  } else {
    stryCov_9fa48("8");
    return stryMutAct_9fa48("11") ? key.asymmetricKeyType === "rsa" || key.asymmetricKeyType === "rsa-pss" || (key.asymmetricKeyDetails?.modulusLength ?? 0) >= MIN_RSA_BITS : stryMutAct_9fa48("10") ? false : stryMutAct_9fa48("9") ? true : (stryCov_9fa48("9", "10", "11"), (stryMutAct_9fa48("13") ? key.asymmetricKeyType === "rsa" && key.asymmetricKeyType === "rsa-pss" : stryMutAct_9fa48("12") ? true : (stryCov_9fa48("12", "13"), (stryMutAct_9fa48("15") ? key.asymmetricKeyType !== "rsa" : stryMutAct_9fa48("14") ? false : (stryCov_9fa48("14", "15"), key.asymmetricKeyType === "rsa")) || (stryMutAct_9fa48("18") ? key.asymmetricKeyType !== "rsa-pss" : stryMutAct_9fa48("17") ? false : (stryCov_9fa48("17", "18"), key.asymmetricKeyType === "rsa-pss")))) && (stryMutAct_9fa48("22") ? (key.asymmetricKeyDetails?.modulusLength ?? 0) < MIN_RSA_BITS : stryMutAct_9fa48("21") ? (key.asymmetricKeyDetails?.modulusLength ?? 0) > MIN_RSA_BITS : stryMutAct_9fa48("20") ? true : (stryCov_9fa48("20", "21", "22"), (stryMutAct_9fa48("23") ? key.asymmetricKeyDetails?.modulusLength && 0 : (stryCov_9fa48("23"), (stryMutAct_9fa48("24") ? key.asymmetricKeyDetails.modulusLength : (stryCov_9fa48("24"), key.asymmetricKeyDetails?.modulusLength)) ?? 0)) >= MIN_RSA_BITS)));
  }
}

/** Whether `signature` is a valid `alg` signature of `signingInput` under `key`. Never throws. */
export function verifySignature(alg: string, key: KeyObject, signingInput: string, signature: Buffer): boolean {
  if (stryMutAct_9fa48("25")) {
    {}
  } else {
    stryCov_9fa48("25");
    const hash = HASHES[stryMutAct_9fa48("26") ? alg : (stryCov_9fa48("26"), alg.slice(2))];
    if (stryMutAct_9fa48("29") ? hash !== undefined : stryMutAct_9fa48("28") ? false : stryMutAct_9fa48("27") ? true : (stryCov_9fa48("27", "28", "29"), hash === undefined)) return stryMutAct_9fa48("30") ? true : (stryCov_9fa48("30"), false);
    const data = Buffer.from(signingInput, "latin1");
    try {
      if (stryMutAct_9fa48("32")) {
        {}
      } else {
        stryCov_9fa48("32");
        switch (stryMutAct_9fa48("33") ? alg : (stryCov_9fa48("33"), alg.slice(0, 2))) {
          case "HS":
            if (stryMutAct_9fa48("34")) {} else {
              stryCov_9fa48("34");
              {
                if (stryMutAct_9fa48("36")) {
                  {}
                } else {
                  stryCov_9fa48("36");
                  if (stryMutAct_9fa48("39") ? key.type === "secret" : stryMutAct_9fa48("38") ? false : stryMutAct_9fa48("37") ? true : (stryCov_9fa48("37", "38", "39"), key.type !== "secret")) return stryMutAct_9fa48("41") ? true : (stryCov_9fa48("41"), false);
                  const expected = createHmac(hash, key).update(data).digest();
                  return stryMutAct_9fa48("44") ? expected.length === signature.length || timingSafeEqual(expected, signature) : stryMutAct_9fa48("43") ? false : stryMutAct_9fa48("42") ? true : (stryCov_9fa48("42", "43", "44"), (stryMutAct_9fa48("46") ? expected.length !== signature.length : stryMutAct_9fa48("45") ? true : (stryCov_9fa48("45", "46"), expected.length === signature.length)) && timingSafeEqual(expected, signature));
                }
              }
            }
          case "RS":
            if (stryMutAct_9fa48("47")) {} else {
              stryCov_9fa48("47");
              if (stryMutAct_9fa48("51") ? key.asymmetricKeyType !== "rsa" && !rsaKey(key) : stryMutAct_9fa48("50") ? false : stryMutAct_9fa48("49") ? true : (stryCov_9fa48("49", "50", "51"), (stryMutAct_9fa48("53") ? key.asymmetricKeyType === "rsa" : stryMutAct_9fa48("52") ? false : (stryCov_9fa48("52", "53"), key.asymmetricKeyType !== "rsa")) || (stryMutAct_9fa48("55") ? rsaKey(key) : (stryCov_9fa48("55"), !rsaKey(key))))) return stryMutAct_9fa48("56") ? true : (stryCov_9fa48("56"), false);
              return verify(hash, data, key, signature);
            }
          case "PS":
            if (stryMutAct_9fa48("57")) {} else {
              stryCov_9fa48("57");
              if (stryMutAct_9fa48("61") ? false : stryMutAct_9fa48("60") ? true : stryMutAct_9fa48("59") ? rsaKey(key) : (stryCov_9fa48("59", "60", "61"), !rsaKey(key))) return stryMutAct_9fa48("62") ? true : (stryCov_9fa48("62"), false);
              return verify(hash, data, stryMutAct_9fa48("63") ? {} : (stryCov_9fa48("63"), {
                key,
                padding: constants.RSA_PKCS1_PSS_PADDING,
                saltLength: constants.RSA_PSS_SALTLEN_DIGEST
              }), signature);
            }
          case "ES":
            if (stryMutAct_9fa48("64")) {} else {
              stryCov_9fa48("64");
              if (stryMutAct_9fa48("68") ? key.asymmetricKeyType !== "ec" && key.asymmetricKeyDetails?.namedCurve !== CURVES[alg] : stryMutAct_9fa48("67") ? false : stryMutAct_9fa48("66") ? true : (stryCov_9fa48("66", "67", "68"), (stryMutAct_9fa48("70") ? key.asymmetricKeyType === "ec" : stryMutAct_9fa48("69") ? false : (stryCov_9fa48("69", "70"), key.asymmetricKeyType !== "ec")) || (stryMutAct_9fa48("73") ? key.asymmetricKeyDetails?.namedCurve === CURVES[alg] : stryMutAct_9fa48("72") ? false : (stryCov_9fa48("72", "73"), (stryMutAct_9fa48("74") ? key.asymmetricKeyDetails.namedCurve : (stryCov_9fa48("74"), key.asymmetricKeyDetails?.namedCurve)) !== CURVES[alg])))) return stryMutAct_9fa48("75") ? true : (stryCov_9fa48("75"), false);
              return verify(hash, data, stryMutAct_9fa48("76") ? {} : (stryCov_9fa48("76"), {
                key,
                dsaEncoding: "ieee-p1363"
              }), signature);
            }
          default:
            if (stryMutAct_9fa48("78")) {} else {
              stryCov_9fa48("78");
              return stryMutAct_9fa48("79") ? true : (stryCov_9fa48("79"), false);
            }
        }
      }
    } catch {
      if (stryMutAct_9fa48("80")) {
        {}
      } else {
        stryCov_9fa48("80");
        return stryMutAct_9fa48("81") ? true : (stryCov_9fa48("81"), false);
      }
    }
  }
}
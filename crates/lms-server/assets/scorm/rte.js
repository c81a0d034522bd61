/* lms SCORM run-time, browser side: a faithful port of the Rust crate `lms-rte` (the data
 * models, validation and error codes of SCORM 1.2 and SCORM 2004 4th edition), working on the
 * attempt state the server serializes with `Attempt::to_json`. The server stays authoritative:
 * it re-applies every accepted SetValue through the Rust run-time. A Rust test runs the ADL
 * conformance-suite calls through this file with Node and compares every reply with Rust's.
 * Plain ES5, no dependencies; usable as a browser script (`window.LmsRte`) and from Node. */
(function (root) {
  "use strict";
  var TWO_LETTER = "aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu cv cy da de dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht hu hy hz ia id ie ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks ku kv kw ky la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt my na nb nd ne ng nl nn no nr nv ny oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si sk sl sm sn so sq sr ss st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve vi vo wa wo xh yi yo za zh zu".split(" ");
  var THREE_LETTER = "aar abk ace ach ada ady afa afh afr ain aka akk alb ale alg alt amh ang anp apa ara arc arg arm arn arp art arw asm ast ath aus ava ave awa aym aze bad bai bak bal bam ban baq bas bat bej bel bem ben ber bho bih bik bin bis bla bnt bod bos bra bre btk bua bug bul bur byn cad cai car cat cau ceb cel ces cha chb che chg chi chk chm chn cho chp chr chu chv chy cmc cnr cop cor cos cpe cpf cpp cre crh crp csb cus cym cze dak dan dar day del den deu dgr din div doi dra dsb dua dum dut dyu dzo efi egy eka ell elx eng enm epo est eus ewe ewo fan fao fas fat fij fil fin fiu fon fra fre frm fro frr frs fry ful fur gaa gay gba gem geo ger gez gil gla gle glg glv gmh goh gon gor got grb grc gre grn gsw guj gwi hai hat hau haw heb her hil him hin hit hmn hmo hrv hsb hun hup hye iba ibo ice ido iii ijo iku ile ilo ina inc ind ine inh ipk ira iro isl ita jav jbo jpn jpr jrb kaa kab kac kal kam kan kar kas kat kau kaw kaz kbd kha khi khm kho kik kin kir kmb kok kom kon kor kos kpe krc krl kro kru kua kum kur kut lad lah lam lao lat lav lez lim lin lit lol loz ltz lua lub lug lui lun luo lus mac mad mag mah mai mak mal man mao map mar mas may mdf mdr men mga mic min mis mkd mkh mlg mlt mnc mni mno moh mon mos mri msa mul mun mus mwl mwr mya myn myv nah nai nap nau nav nbl nde ndo nds nep new nia nic niu nld nno nob nog non nor nqo nso nub nwc nya nym nyn nyo nzi oci oji ori orm osa oss ota oto paa pag pal pam pan pap pau peo per phi phn pli pol pon por pra pro pus que raj rap rar roa roh rom ron rum run rup rus sad sag sah sai sal sam san sas sat scn sco sel sem sga sgn shn sid sin sio sit sla slk slo slv sma sme smi smj smn smo sms sna snd snk sog som son sot spa sqi srd srn srp srr ssa ssw suk sun sus sux swa swe syc syr tah tai tam tat tel tem ter tet tgk tgl tha tib tig tir tiv tkl tlh tli tmh tog ton tpi tsi tsn tso tuk tum tup tur tut tvl twi tyv udm uga uig ukr umb und urd uzb vai ven vie vol vot wak wal war was wel wen wln wol xal xho yao yap yid yor ypk zap zbl zen zgh zha zho znd zul zun zxx zza".split(" ");
  var WITHDRAWN = ["mo", "mol", "scc", "scr", "sh", "iw", "in", "ji", "jw"];
  var LANG2 = {}, LANG3 = {};
  TWO_LETTER.forEach(function (c) { LANG2[c] = true; });
  THREE_LETTER.forEach(function (c) { LANG3[c] = true; });

  function isDigit(c) { return c >= "0" && c <= "9"; }
  function allDigits(s) { if (!s.length) return false; for (var i = 0; i < s.length; i++) if (!isDigit(s[i])) return false; return true; }
  function isAlnum(c) { return /^[A-Za-z0-9]$/.test(c); }
  function charCount(s) { var n = 0; for (var i = 0; i < s.length; i++) { var c = s.charCodeAt(i); if (c < 0xd800 || c > 0xdbff) n++; } return n; }
  function hasWhitespace(s) { return /[\s\u0085]/.test(s.replace(/\uFEFF/g, "")); }

  // ---- value formats (types.rs) --------------------------------------------------------
  function parseReal(text) {
    if (!/^-?[0-9]*(\.[0-9]*)?$/.test(text)) return null;
    var digits = text.replace(/[-.]/g, "");
    if (!digits.length) return null;
    var v = parseFloat(text.charAt(text.length - 1) === "." ? text.slice(0, -1) : text);
    if (text === "-" || isNaN(v)) return null;
    return v;
  }

  function parseDuration(text) {
    if (text.charAt(0) !== "P" || text.length < 2) return null;
    var i = 1, inTime = false, any = false, timeSeen = false, total = 0, lastRank = 0;
    while (i < text.length) {
      if (text[i] === "T") {
        if (inTime) return null;
        inTime = true; i++;
        if (i === text.length) return null;
        continue;
      }
      var start = i;
      while (i < text.length && isDigit(text[i])) i++;
      var digits = text.slice(start, i);
      if (!digits.length || digits.length > 12) return null;
      var fraction = 0, hasFraction = false;
      if (i < text.length && text[i] === ".") {
        i++;
        var fs = i;
        while (i < text.length && isDigit(text[i])) i++;
        var frac = text.slice(fs, i);
        if (!frac.length) return null;
        hasFraction = true;
        fraction = (frac.charCodeAt(0) - 48) * 10 + (frac.length > 1 ? frac.charCodeAt(1) - 48 : 0);
      }
      if (i >= text.length) return null;
      var d = text[i]; i++;
      var value = parseInt(digits, 10), rank, unit;
      if (!inTime && d === "Y") { rank = 1; unit = 365 * 86400 * 100; }
      else if (!inTime && d === "M") { rank = 2; unit = 30 * 86400 * 100; }
      else if (!inTime && d === "D") { rank = 3; unit = 86400 * 100; }
      else if (inTime && d === "H") { rank = 4; unit = 3600 * 100; }
      else if (inTime && d === "M") { rank = 5; unit = 6000; }
      else if (inTime && d === "S") { rank = 6; unit = 100; }
      else return null;
      if (rank <= lastRank || (hasFraction && rank !== 6)) return null;
      lastRank = rank; any = true;
      if (inTime) timeSeen = true;
      total += value * unit + fraction;
      if (total > 18446744073709551615) return null;
    }
    if (!any || (inTime && !timeSeen)) return null;
    return total;
  }

  function formatDuration(cs) {
    if (cs === 0) return "PT0H0M0S";
    var days = Math.floor(cs / 8640000), hours = Math.floor(cs / 360000) % 24,
      minutes = Math.floor(cs / 6000) % 60, seconds = Math.floor(cs / 100) % 60, c = cs % 100;
    var out = "P";
    if (days > 0) out += days + "D";
    if (hours > 0 || minutes > 0 || seconds > 0 || c > 0) {
      out += "T";
      if (hours > 0) out += hours + "H";
      if (minutes > 0) out += minutes + "M";
      if (seconds > 0 || c > 0) {
        if (c === 0) out += seconds + "S";
        else if (c % 10 === 0) out += seconds + "." + (c / 10) + "S";
        else out += seconds + "." + (c < 10 ? "0" : "") + c + "S";
      }
    }
    return out;
  }

  function twoDigits(s, at) {
    if (at + 1 >= s.length + 0 && at + 1 > s.length - 1) { if (at + 1 > s.length - 1) return null; }
    var a = s[at], b = s[at + 1];
    if (a === undefined || b === undefined || !isDigit(a) || !isDigit(b)) return null;
    return (a.charCodeAt(0) - 48) * 10 + (b.charCodeAt(0) - 48);
  }
  function daysInMonth(y, m) {
    if ([1, 3, 5, 7, 8, 10, 12].indexOf(m) >= 0) return 31;
    if ([4, 6, 9, 11].indexOf(m) >= 0) return 30;
    return ((y % 4 === 0 && y % 100 !== 0) || y % 400 === 0) ? 29 : 28;
  }
  function isTimeZone(s) {
    if (s[0] === "Z") return s.length === 1;
    if (s[0] === "+" || s[0] === "-") {
      var h = twoDigits(s, 1);
      if (h === null || h > 23) return false;
      if (s.length === 3) return true;
      if (s[3] !== ":") return false;
      var m = twoDigits(s, 4);
      return m !== null && m <= 59 && s.length === 6;
    }
    return false;
  }
  function isTime(t) {
    if (t.length < 4 || !allDigits(t.slice(0, 4))) return false;
    var year = parseInt(t.slice(0, 4), 10);
    if (year < 1970 || year > 2038) return false;
    var i = 4;
    if (i === t.length) return true;
    if (t[i] !== "-") return false;
    var month = twoDigits(t, i + 1);
    if (month === null || month < 1 || month > 12) return false;
    i += 3;
    if (i === t.length) return true;
    if (t[i] !== "-") return false;
    var day = twoDigits(t, i + 1);
    if (day === null || day < 1 || day > daysInMonth(year, month)) return false;
    i += 3;
    if (i === t.length) return true;
    if (t[i] !== "T") return false;
    var hour = twoDigits(t, i + 1);
    if (hour === null || hour > 23) return false;
    i += 3;
    if (i < t.length && t[i] === ":") {
      var minute = twoDigits(t, i + 1);
      if (minute === null || minute > 59) return false;
      i += 3;
      if (i < t.length && t[i] === ":") {
        var second = twoDigits(t, i + 1);
        if (second === null || second > 59) return false;
        i += 3;
        if (i < t.length && t[i] === ".") {
          i++;
          var st = i;
          while (i < t.length && isDigit(t[i])) i++;
          var n = i - st;
          if (n === 0 || n > 2) return false;
          if (i === t.length) return true;
          return isTimeZone(t.slice(i));
        }
      }
    }
    return i === t.length;
  }

  function isLanguage(text) {
    if (text === "") return true;
    var parts = text.split("-");
    var primary = parts[0], ok;
    if (primary.length === 1) ok = /^[iIxX]$/.test(primary);
    else if ((primary.length === 2 || primary.length === 3) && /^[A-Za-z]+$/.test(primary)) {
      var code = primary.toLowerCase();
      ok = (primary.length === 2 ? LANG2[code] === true : LANG3[code] === true) || WITHDRAWN.indexOf(code) >= 0;
    } else ok = false;
    if (!ok) return false;
    for (var k = 1; k < parts.length; k++) {
      var sub = parts[k];
      if (!sub.length || sub.length > 8 || !/^[A-Za-z0-9]+$/.test(sub)) return false;
    }
    return true;
  }
  /** The text after a valid `{lang=…}` delimiter, the text itself without one, `null` when invalid. */
  function stripLang(text) {
    if (text.indexOf("{lang=") === 0) {
      var rest = text.slice(6), end = rest.indexOf("}");
      if (end < 0) return null;
      var lang = rest.slice(0, end);
      if (!lang.length || !isLanguage(lang)) return null;
      return rest.slice(end + 1);
    }
    return text;
  }
  function isLocalizedString(text) { return stripLang(text) !== null; }
  function isIdentifier(text) {
    if (!text.length || /[\[\]{}]/.test(text)) return false;
    if (text.length >= 4 && text.slice(0, 4).toLowerCase() === "urn:") {
      var rest = text.slice(4), colon = rest.indexOf(":");
      if (colon < 0) return false;
      var nid = rest.slice(0, colon), nss = rest.slice(colon + 1);
      return !hasWhitespace(text) && nid.length > 0 && nid.length <= 31 && /^[A-Za-z0-9-]+$/.test(nid) &&
        nid.charAt(0) !== "-" && nss.length > 0;
    }
    return true;
  }
  function parseTimespan12(text) {
    var parts = text.split(":");
    if (parts.length !== 3) return null;
    var hours = parts[0], minutes = parts[1], seconds = parts[2];
    if (hours.length < 2 || hours.length > 4 || !allDigits(hours) || minutes.length !== 2 || !allDigits(minutes)) return null;
    var dot = seconds.indexOf("."), whole = dot < 0 ? seconds : seconds.slice(0, dot), frac = dot < 0 ? null : seconds.slice(dot + 1);
    if (whole.length !== 2 || !allDigits(whole)) return null;
    var cs = 0;
    if (frac !== null) {
      if (!frac.length || frac.length > 2 || !allDigits(frac)) return null;
      cs = parseInt(frac, 10) * (frac.length === 1 ? 10 : 1);
    }
    var h = parseInt(hours, 10), m = parseInt(minutes, 10), s = parseInt(whole, 10);
    if (m > 59 || s > 59) return null;
    return ((h * 60 + m) * 60 + s) * 100 + cs;
  }
  function pad(n, w) { var s = String(n); while (s.length < w) s = "0" + s; return s; }
  function formatTimespan12(cs) {
    var h = Math.floor(cs / 360000), m = Math.floor(cs / 6000) % 60, s = Math.floor(cs / 100) % 60, c = cs % 100;
    var out = pad(h, 4) + ":" + pad(m, 2) + ":" + pad(s, 2);
    return c === 0 ? out : out + "." + pad(c, 2);
  }
  function isTime12(text) {
    var cs = parseTimespan12(text);
    return cs !== null && text.split(":")[0].length === 2 && cs < 24 * 360000;
  }

  // ---- interactions (interaction.rs) -----------------------------------------------------
  var TYPES_2004 = ["true-false", "choice", "fill-in", "long-fill-in", "likert", "matching", "performance", "sequencing", "numeric", "other"];
  function parseType2004(t) { return TYPES_2004.indexOf(t) >= 0 ? t : null; }
  function parseType12(t) { var k = parseType2004(t); return (k === "long-fill-in" || k === "other") ? null : k; }
  function maxPatterns(kind) { return (kind === "true-false" || kind === "likert" || kind === "numeric" || kind === "other") ? 1 : null; }
  function items(text) { return text.split("[,]"); }
  function isBoolWord(t) { return t === "true" || t === "false"; }
  function splitOnce(text, sep) { var i = text.indexOf(sep); return i < 0 ? null : [text.slice(0, i), text.slice(i + sep.length)]; }

  function stripPatternDelimiters(text, allowCase, allowOrder, allowLang) {
    var seenCase = false, seenOrder = false, seenLang = false;
    for (;;) {
      var prefix = null, which = null;
      if (allowCase && !seenCase && text.indexOf("{case_matters=") === 0) { prefix = "{case_matters="; which = "case"; }
      else if (allowOrder && !seenOrder && text.indexOf("{order_matters=") === 0) { prefix = "{order_matters="; which = "order"; }
      if (prefix !== null) {
        var rest = text.slice(prefix.length), end = rest.indexOf("}");
        if (end >= 0 && isBoolWord(rest.slice(0, end))) {
          if (which === "case") seenCase = true; else seenOrder = true;
          text = rest.slice(end + 1);
          continue;
        }
        if (seenLang) return text;
        return null;
      }
      if (allowLang && !seenLang && text.indexOf("{lang=") === 0) {
        var r = stripLang(text);
        if (r === null) return null;
        seenLang = true; text = r;
        continue;
      }
      return text;
    }
  }
  function isLocalizedItem(t) { return stripLang(t) !== null; }
  function isNumericRange(text) {
    var p = splitOnce(text, "[:]");
    if (p === null) return parseReal(text) !== null;
    var lo = p[0] === "" ? undefined : parseReal(p[0]), hi = p[1] === "" ? undefined : parseReal(p[1]);
    if (lo === null || hi === null) return false;
    if (lo !== undefined && hi !== undefined) return lo <= hi;
    return true;
  }
  function uniqueIdentifiers(text) {
    var seen = [], list = items(text);
    for (var i = 0; i < list.length; i++) {
      if (!isIdentifier(list[i]) || seen.indexOf(list[i]) >= 0) return false;
      seen.push(list[i]);
    }
    return true;
  }
  function isPair(text) {
    var p = splitOnce(text, "[.]");
    return p !== null && p[1].indexOf("[.]") < 0 && isIdentifier(p[0]) && isIdentifier(p[1]);
  }
  function isPerformanceStep(text, allowRange) {
    var p = splitOnce(text, "[.]");
    if (p === null) return false;
    var name = p[0], answer = p[1];
    if (answer.indexOf("[.]") >= 0 || (name === "" && answer === "")) return false;
    if (name !== "" && !isIdentifier(name)) return false;
    if (answer.indexOf("[:]") >= 0) return allowRange && isNumericRange(answer);
    return true;
  }
  function every(list, f) { for (var i = 0; i < list.length; i++) if (!f(list[i])) return false; return true; }
  function isValidPattern(kind, text) {
    switch (kind) {
      case "true-false": return isBoolWord(text);
      case "choice": return text === "" || uniqueIdentifiers(text);
      case "fill-in": {
        var rest = stripPatternDelimiters(text, true, true, true);
        if (rest === null) return false;
        return every(items(rest).slice(1), isLocalizedItem);
      }
      case "long-fill-in": return stripPatternDelimiters(text, true, false, true) !== null;
      case "likert": return isIdentifier(text);
      case "matching": return every(items(text), isPair);
      case "performance": {
        var r = stripPatternDelimiters(text, false, true, false);
        return r !== null && every(items(r), function (s) { return isPerformanceStep(s, true); });
      }
      case "sequencing": return every(items(text), isIdentifier);
      case "numeric": return isNumericRange(text);
      default: return true;
    }
  }
  function isValidResponse(kind, text) {
    switch (kind) {
      case "true-false": return isBoolWord(text);
      case "choice": return text === "" || uniqueIdentifiers(text);
      case "fill-in": return every(items(text), isLocalizedItem);
      case "long-fill-in": return isLocalizedItem(text);
      case "likert": return isIdentifier(text);
      case "matching": return every(items(text), isPair);
      case "performance": return every(items(text), function (s) { return isPerformanceStep(s, false); });
      case "sequencing": return every(items(text), isIdentifier);
      case "numeric": return parseReal(text) !== null;
      default: return true;
    }
  }
  function isValid12(kind, text) {
    if (kind === "true-false") return ["0", "1", "t", "f", "true", "false"].indexOf(text) >= 0;
    if (kind === "numeric") return text === "" || parseReal(text) !== null;
    return true;
  }

  // ---- error texts (error.rs) ---------------------------------------------------------------
  var MSG_2004 = {0: "No Error", 101: "General Exception", 102: "General Initialization Failure", 103: "Already Initialized",
    104: "Content Instance Terminated", 111: "General Termination Failure", 112: "Termination Before Initialization",
    113: "Termination After Termination", 122: "Retrieve Data Before Initialization", 123: "Retrieve Data After Termination",
    132: "Store Data Before Initialization", 133: "Store Data After Termination", 142: "Commit Before Initialization",
    143: "Commit After Termination", 201: "General Argument Error", 301: "General Get Failure", 351: "General Set Failure",
    391: "General Commit Failure", 401: "Undefined Data Model Element", 402: "Unimplemented Data Model Element",
    403: "Data Model Element Value Not Initialized", 404: "Data Model Element Is Read Only", 405: "Data Model Element Is Write Only",
    406: "Data Model Element Type Mismatch", 407: "Data Model Element Value Out Of Range", 408: "Data Model Dependency Not Established"};
  var MSG_12 = {0: "No error", 101: "General exception", 201: "Invalid argument error", 202: "Element cannot have children",
    203: "Element not an array. Cannot have count", 301: "Not initialized", 401: "Not implemented error",
    402: "Invalid set value, element is a keyword", 403: "Element is read only", 404: "Element is write only", 405: "Incorrect Data Type"};
  function parseCode(c) { return /^[0-9]+$/.test(c) && c.length <= 5 && parseInt(c, 10) <= 65535 ? parseInt(c, 10) : null; }

  // ---- SCORM 2004 element names (scorm2004.rs) ----------------------------------------------
  function E(code) { return {error: code}; }
  var UNDEF = "undefined", NOCHILD = "nochildren", NOCOUNT = "nocount";
  function PErr(kind) { this.kind = kind; }
  function split(text) { var i = text.indexOf("."); return i < 0 ? [text, null] : [text.slice(0, i), text.slice(i + 1)]; }
  function leafField(value, rest) {
    if (rest === null) return value;
    if (rest === "_children") throw new PErr(NOCHILD);
    if (rest === "_count") throw new PErr(NOCOUNT);
    throw new PErr(UNDEF);
  }
  function parseIndex(text) {
    if (!text.length || text.length > 9 || !allDigits(text)) throw new PErr(UNDEF);
    return parseInt(text, 10);
  }
  function parseList(rest, field) {
    if (rest === null) throw new PErr(UNDEF);
    var s = split(rest), head = s[0], tail = s[1];
    if (head === "_children" && tail === null) return {list: "children"};
    if (head === "_count" && tail === null) return {list: "count"};
    var index = parseIndex(head);
    if (tail === null) throw new PErr(UNDEF);
    var f = split(tail);
    return {list: "item", n: index, field: field(f[0], f[1])};
  }
  function parseScore(rest) {
    if (rest === null) throw new PErr(UNDEF);
    var s = split(rest), head = s[0], tail = s[1];
    var names = {"_children": "children", scaled: "scaled", raw: "raw", min: "min", max: "max"};
    if (Object.prototype.hasOwnProperty.call(names, head)) return leafField({score: names[head]}, tail);
    if (head === "_count" && tail === null) throw new PErr(NOCOUNT);
    throw new PErr(UNDEF);
  }
  function parseCommentField(name, rest) {
    if (name === "comment" || name === "location" || name === "timestamp") return leafField({f: name}, rest);
    throw new PErr(UNDEF);
  }
  function parseObjectiveField(name, rest) {
    if (name === "score") return {f: "score", score: parseScore(rest).score};
    if (["id", "success_status", "completion_status", "progress_measure", "description"].indexOf(name) >= 0) return leafField({f: name}, rest);
    throw new PErr(UNDEF);
  }
  function parseInteractionField(name, rest) {
    if (name === "objectives" || name === "correct_responses") {
      var isObj = name === "objectives";
      if (rest === null) throw new PErr(UNDEF);
      var s = split(rest), head = s[0], tail = s[1];
      if (head === "_count") return leafField({f: isObj ? "objectives_count" : "correct_responses_count"}, tail);
      if (head === "_children") throw new PErr(NOCHILD);
      var index = parseIndex(head);
      if (tail === null) throw new PErr(UNDEF);
      var l = split(tail);
      if (isObj && l[0] === "id") return leafField({f: "objective_id", m: index}, l[1]);
      if (!isObj && l[0] === "pattern") return leafField({f: "pattern", m: index}, l[1]);
      throw new PErr(UNDEF);
    }
    if (["id", "type", "timestamp", "weighting", "learner_response", "result", "latency", "description"].indexOf(name) >= 0) return leafField({f: name}, rest);
    throw new PErr(UNDEF);
  }
  function parseTarget(text) {
    if (text.indexOf("{target=") !== 0 || text.charAt(text.length - 1) !== "}" || text.length < 9) return null;
    var inner = text.slice(8, -1);
    return inner.length ? inner : null;
  }
  var LEAVES_2004 = {"_version": "version", completion_status: 1, completion_threshold: 1, credit: 1, entry: 1, exit: 1,
    launch_data: 1, learner_id: 1, learner_name: 1, location: 1, max_time_allowed: 1, mode: 1, progress_measure: 1,
    scaled_passing_score: 1, session_time: 1, success_status: 1, suspend_data: 1, time_limit_action: 1, total_time: 1};
  function parsePath2004(name) {
    if (name.indexOf("cmi.") === 0) {
      var s = split(name.slice(4)), head = s[0], tail = s[1];
      if (Object.prototype.hasOwnProperty.call(LEAVES_2004, head)) {
        if (tail === null) return {p: head === "_version" ? "version" : head};
        leafField(null, tail);
      }
      switch (head) {
        case "comments_from_learner": return {p: "comments_from_learner", l: parseList(tail, parseCommentField)};
        case "comments_from_lms": return {p: "comments_from_lms", l: parseList(tail, parseCommentField)};
        case "interactions": return {p: "interactions", l: parseList(tail, parseInteractionField)};
        case "objectives": return {p: "objectives", l: parseList(tail, parseObjectiveField)};
        case "score": return {p: "score", f: parseScore(tail).score};
        case "learner_preference": {
          if (tail === null) throw new PErr(UNDEF);
          var t = split(tail), f = t[0], more = t[1];
          var names = {"_children": "children", audio_level: 1, language: 1, delivery_speed: 1, audio_captioning: 1};
          if (Object.prototype.hasOwnProperty.call(names, f)) return {p: "learner_preference", f: leafField(f === "_children" ? "children" : f, more)};
          if (f === "_count" && more === null) throw new PErr(NOCOUNT);
          throw new PErr(UNDEF);
        }
      }
      throw new PErr(UNDEF);
    }
    if (name.indexOf("adl.nav.") === 0) {
      var rest = name.slice(8);
      if (rest === "request") return {p: "nav_request"};
      if (rest.indexOf("request_valid.") === 0) {
        var q = rest.slice(14);
        if (q === "continue") return {p: "nav_valid_continue"};
        if (q === "previous") return {p: "nav_valid_previous"};
        var target;
        if (q.indexOf("choice.") === 0) { target = parseTarget(q.slice(7)); if (target === null) throw new PErr(UNDEF); return {p: "nav_valid_choice", target: target}; }
        if (q.indexOf("jump.") === 0) { target = parseTarget(q.slice(5)); if (target === null) throw new PErr(UNDEF); return {p: "nav_valid_jump", target: target}; }
      }
      throw new PErr(UNDEF);
    }
    if (name.indexOf("adl.data") === 0) {
      var r = name.slice(8), tl;
      if (r.charAt(0) === ".") tl = r.slice(1);
      else if (r === "") tl = null;
      else throw new PErr(UNDEF);
      return {p: "data", l: parseList(tl, function (field, more) {
        if (field === "id" || field === "store") return leafField({f: field}, more);
        throw new PErr(UNDEF);
      })};
    }
    throw new PErr(UNDEF);
  }
  function resolve2004(name) {
    try { return parsePath2004(name); } catch (e) { if (e instanceof PErr) return {err: e.kind}; throw e; }
  }

  // ---- SCORM 2004 GetValue / SetValue -------------------------------------------------------
  var TLA = {exit_message: "exit,message", exit_no_message: "exit,no message", continue_message: "continue,message", continue_no_message: "continue,no message"};
  function creditText(c) { return c === "no_credit" ? "no-credit" : "credit"; }
  function realText(v) { if (Object.is(v, -0)) return "-0.0"; return Number.isInteger(v) ? v.toFixed(1) : String(v); }
  function stored(v) { return v === null || v === undefined ? E(403) : {value: v}; }
  function count(n) { return {value: String(n)}; }
  function scoreGet(score, f) {
    if (f === "children") return {value: "scaled,raw,min,max"};
    return stored(score[f]);
  }
  function evaluatedCompletion(cmi, config) {
    if (config.completion_threshold !== null && config.completion_threshold !== undefined) {
      var m = cmi.progress_measure === null ? null : parseReal(cmi.progress_measure);
      if (m === null) return "unknown";
      return m >= config.completion_threshold ? "completed" : "incomplete";
    }
    return cmi.completion_status === null ? "unknown" : cmi.completion_status;
  }
  function evaluatedSuccess(cmi, config) {
    if (config.scaled_passing_score !== null && config.scaled_passing_score !== undefined) {
      var s = cmi.score.scaled === null ? null : parseReal(cmi.score.scaled);
      if (s === null) return "unknown";
      return s >= config.scaled_passing_score ? "passed" : "failed";
    }
    return cmi.success_status === null ? "unknown" : cmi.success_status;
  }
  function validityText(v) { return v === "true" || v === "false" ? v : "unknown"; }
  function at(list, n) { return n < list.length ? list[n] : null; }

  function get2004(cmi, config, nav, name) {
    if (name === "") return E(301);
    var p = resolve2004(name);
    if (p.err === UNDEF) return E(401);
    if (p.err) return E(301);
    var l = p.l, c, o, i;
    switch (p.p) {
      case "version": return {value: "1.0"};
      case "comments_from_learner":
        if (l.list === "children") return {value: "comment,location,timestamp"};
        if (l.list === "count") return count(cmi.comments_from_learner.length);
        c = at(cmi.comments_from_learner, l.n);
        if (!c) return E(301);
        return stored(c[l.field.f]);
      case "comments_from_lms":
        if (l.list === "children") return {value: "comment,location,timestamp"};
        if (l.list === "count") return count(config.comments_from_lms.length);
        c = at(config.comments_from_lms, l.n);
        if (!c) return E(301);
        if (l.field.f === "comment") return {value: c.comment};
        return stored(c[l.field.f]);
      case "completion_status": return {value: evaluatedCompletion(cmi, config)};
      case "completion_threshold": return config.completion_threshold === null ? E(403) : {value: realText(config.completion_threshold)};
      case "credit": return {value: creditText(config.credit)};
      case "entry": return {value: cmi.entry};
      case "exit": case "session_time": return E(405);
      case "interactions":
        if (l.list === "children") return {value: "id,type,objectives,timestamp,correct_responses,weighting,learner_response,result,latency,description"};
        if (l.list === "count") return count(cmi.interactions.length);
        i = at(cmi.interactions, l.n);
        if (!i) return E(301);
        switch (l.field.f) {
          case "type": return i.kind === null ? E(403) : {value: i.kind};
          case "objectives_count": return count(i.objectives.length);
          case "objective_id": return l.field.m < i.objectives.length ? {value: i.objectives[l.field.m]} : E(301);
          case "correct_responses_count": return count(i.correct_responses.length);
          case "pattern": return l.field.m < i.correct_responses.length ? {value: i.correct_responses[l.field.m]} : E(301);
          default: return stored(i[l.field.f]);
        }
      case "launch_data": return stored(config.launch_data);
      case "learner_id": return {value: config.learner_id};
      case "learner_name": return {value: config.learner_name};
      case "learner_preference": {
        var lp = cmi.learner_preference;
        switch (p.f) {
          case "children": return {value: "audio_level,language,delivery_speed,audio_captioning"};
          case "audio_level": return {value: lp.audio_level === null ? "1" : lp.audio_level};
          case "language": return {value: lp.language === null ? "" : lp.language};
          case "delivery_speed": return {value: lp.delivery_speed === null ? "1" : lp.delivery_speed};
          default: return {value: lp.audio_captioning === null ? "0" : lp.audio_captioning};
        }
      }
      case "location": return stored(cmi.location);
      case "max_time_allowed": return stored(config.max_time_allowed);
      case "mode": return {value: config.mode};
      case "objectives":
        if (l.list === "children") return {value: "id,score,success_status,completion_status,progress_measure,description"};
        if (l.list === "count") return count(cmi.objectives.length);
        o = at(cmi.objectives, l.n);
        if (!o) return E(301);
        switch (l.field.f) {
          case "score": return scoreGet(o.score, l.field.score);
          case "success_status": return {value: o.success_status === null ? "unknown" : o.success_status};
          case "completion_status": return {value: o.completion_status === null ? "unknown" : o.completion_status};
          default: return stored(o[l.field.f]);
        }
      case "progress_measure": return stored(cmi.progress_measure);
      case "scaled_passing_score": return config.scaled_passing_score === null ? E(403) : {value: realText(config.scaled_passing_score)};
      case "score": return scoreGet(cmi.score, p.f);
      case "success_status": return {value: evaluatedSuccess(cmi, config)};
      case "suspend_data": return stored(cmi.suspend_data);
      case "time_limit_action": return {value: TLA[config.time_limit_action || "continue_no_message"]};
      case "total_time": return {value: formatDuration(cmi.total_time_cs)};
      case "nav_request": return {value: cmi.nav_request};
      case "nav_valid_continue": return {value: validityText(nav.continue_)};
      case "nav_valid_previous": return {value: validityText(nav.previous)};
      case "nav_valid_choice": return {value: validityText(nav.choice[p.target])};
      case "nav_valid_jump": return {value: validityText(nav.jump[p.target])};
      case "data":
        if (l.list === "children") return {value: "id,store"};
        if (l.list === "count") return count(cmi.shared_data.length);
        var b = at(cmi.shared_data, l.n);
        if (!b) return E(301);
        if (l.field.f === "id") return {value: b.id};
        if (!b.readable) return E(405);
        return stored(b.store);
    }
    return E(401);
  }

  var COMPLETION = ["completed", "incomplete", "not attempted", "unknown"], SUCCESS = ["passed", "failed", "unknown"];
  function checkReal(value, min, max) {
    var v = parseReal(value);
    if (v === null) return 406;
    if ((min !== null && v < min) || (max !== null && v > max)) return 407;
    return 0;
  }
  function vocab(value, words) { return words.indexOf(value) >= 0 ? 0 : 406; }
  function ok(b) { return b ? 0 : 406; }
  function scoreSet(score, f, value) {
    if (f === "children") return 404;
    var e = f === "scaled" ? checkReal(value, -1, 1) : checkReal(value, null, null);
    if (e) return e;
    score[f] = value;
    return 0;
  }
  function isNavRequest(v) {
    if (["continue", "previous", "exit", "exitAll", "abandon", "abandonAll", "suspendAll", "_none_"].indexOf(v) >= 0) return true;
    if (v.indexOf("{target=") !== 0) return false;
    var rest = v.slice(8), end = rest.indexOf("}");
    if (end < 0) return false;
    var command = rest.slice(end + 1);
    return end > 0 && (command === "choice" || command === "jump");
  }
  var READ_ONLY_2004 = ["version", "comments_from_lms", "completion_threshold", "credit", "entry", "launch_data", "learner_id",
    "learner_name", "max_time_allowed", "mode", "scaled_passing_score", "time_limit_action", "total_time", "nav_valid_continue",
    "nav_valid_previous", "nav_valid_choice", "nav_valid_jump"];
  function emptyScore() { return {scaled: null, raw: null, min: null, max: null}; }

  function set2004(cmi, name, value) {
    if (name === "") return 351;
    var p = resolve2004(name);
    if (p.err === UNDEF) return 401;
    if (p.err) return 404;
    if (READ_ONLY_2004.indexOf(p.p) >= 0) return 404;
    if ((p.p === "learner_preference" || p.p === "score") && p.f === "children") return 404;
    var e, l = p.l;
    switch (p.p) {
      case "comments_from_learner": {
        if (l.list !== "item") return 404;
        var comments = cmi.comments_from_learner, n = l.n, f = l.field.f;
        if (n > comments.length) return 351;
        if (f === "comment" && !isLocalizedString(value)) return 406;
        if (f === "timestamp" && !isTime(value)) return 406;
        if (n === comments.length) comments.push({comment: null, location: null, timestamp: null});
        comments[n][f] = value;
        return 0;
      }
      case "completion_status": e = vocab(value, COMPLETION); if (!e) cmi.completion_status = value; return e;
      case "exit": e = vocab(value, ["time-out", "suspend", "logout", "normal", ""]); if (!e) cmi.exit = value; return e;
      case "interactions": return interactionSet(cmi.interactions, l, value);
      case "learner_preference": {
        var lp = cmi.learner_preference;
        if (p.f === "audio_level" || p.f === "delivery_speed") e = checkReal(value, 0, null);
        else if (p.f === "language") e = ok(isLanguage(value));
        else e = vocab(value, ["-1", "0", "1"]);
        if (!e) lp[p.f] = value;
        return e;
      }
      case "location": cmi.location = value; return 0;
      case "objectives": return objectiveSet(cmi.objectives, l, value);
      case "progress_measure": e = checkReal(value, 0, 1); if (!e) cmi.progress_measure = value; return e;
      case "score": return scoreSet(cmi.score, p.f, value);
      case "session_time": e = ok(parseDuration(value) !== null); if (!e) cmi.session_time = value; return e;
      case "success_status": e = vocab(value, SUCCESS); if (!e) cmi.success_status = value; return e;
      case "suspend_data": cmi.suspend_data = value; return 0;
      case "nav_request": e = ok(isNavRequest(value)); if (!e) cmi.nav_request = value; return e;
      case "data": {
        if (l.list !== "item") return 404;
        var b = at(cmi.shared_data, l.n);
        if (!b) return 351;
        if (l.field.f === "id" || !b.writable) return 404;
        b.store = value === "" ? null : value;
        return 0;
      }
    }
    return 401;
  }

  function objectiveSet(objectives, l, value) {
    if (l.list !== "item") return 404;
    var n = l.n, f = l.field;
    if (n > objectives.length) return 351;
    if (f.f === "id") {
      if (!isIdentifier(value)) return 406;
      var existing = n < objectives.length ? objectives[n].id : null;
      if (existing !== null) return existing === value ? 0 : 351;
      for (var k = 0; k < objectives.length; k++) if (k !== n && objectives[k].id === value) return 351;
      if (n === objectives.length) objectives.push({id: null, score: emptyScore(), success_status: null, completion_status: null, progress_measure: null, description: null});
      objectives[n].id = value;
      return 0;
    }
    if (f.f === "score" && f.score === "children") return 404;
    var o = at(objectives, n);
    if (!o || o.id === null) return 408;
    var e;
    switch (f.f) {
      case "score": return scoreSet(o.score, f.score, value);
      case "success_status": e = vocab(value, SUCCESS); break;
      case "completion_status": e = vocab(value, COMPLETION); break;
      case "progress_measure": e = checkReal(value, 0, 1); break;
      default: e = ok(isLocalizedString(value));
    }
    if (!e) o[f.f] = value;
    return e;
  }

  function interactionSet(interactions, l, value) {
    if (l.list !== "item") return 404;
    var n = l.n, f = l.field, k;
    if (n > interactions.length) return 351;
    if (f.f === "objectives_count" || f.f === "correct_responses_count") return 404;
    if (f.f === "id") {
      if (!isIdentifier(value)) return 406;
      if (n === interactions.length) interactions.push({id: null, kind: null, objectives: [], timestamp: null, correct_responses: [], weighting: null, learner_response: null, result: null, latency: null, description: null});
      interactions[n].id = value;
      return 0;
    }
    var i = at(interactions, n);
    if (!i || i.id === null) return 408;
    var e;
    switch (f.f) {
      case "type": {
        var kind = parseType2004(value);
        if (kind === null) return 406;
        i.kind = kind;
        return 0;
      }
      case "objective_id": {
        var m = f.m;
        if (m > i.objectives.length) return 351;
        if (!isIdentifier(value)) return 406;
        for (k = 0; k < i.objectives.length; k++) if (k !== m && i.objectives[k] === value) return 351;
        i.objectives[m] = value;
        return 0;
      }
      case "timestamp": e = ok(isTime(value)); break;
      case "pattern": {
        if (i.kind === null) return 408;
        var pm = f.m, max = maxPatterns(i.kind);
        if (pm > i.correct_responses.length || (max !== null && pm >= max)) return 351;
        if (!isValidPattern(i.kind, value)) return 406;
        if (i.kind === "choice") for (k = 0; k < i.correct_responses.length; k++) if (k !== pm && i.correct_responses[k] === value) return 351;
        i.correct_responses[pm] = value;
        return 0;
      }
      case "weighting": e = checkReal(value, null, null); break;
      case "learner_response":
        if (i.kind === null) return 408;
        e = ok(isValidResponse(i.kind, value));
        break;
      case "result":
        e = ok(["correct", "incorrect", "unanticipated", "neutral"].indexOf(value) >= 0 || parseReal(value) !== null);
        break;
      case "latency": e = ok(parseDuration(value) !== null); break;
      default: e = ok(isLocalizedString(value));
    }
    if (!e) i[f.f] = value;
    return e;
  }

  // ---- SCORM 1.2 LMSGetValue / LMSSetValue (scorm12.rs) --------------------------------------
  var CORE_CHILDREN = "student_id,student_name,lesson_location,credit,lesson_status,entry,score,total_time,lesson_mode,exit,session_time";
  var INTERACTION_CHILDREN = "id,objectives,time,type,correct_responses,weighting,student_response,result,latency";
  function s12(v) { return {value: v === null || v === undefined ? "" : v}; }
  function keywordError(k) { return k === "_children" ? 202 : k === "_count" ? 203 : 401; }
  function index12(text) { return (!text.length || text.length > 9 || !allDigits(text)) ? null : parseInt(text, 10); }
  function parts12(name) { var p = name.split("."); return p.length > 6 ? null : p; }
  function score12Get(score, rest) {
    if (rest.length === 1) {
      if (rest[0] === "_children") return {value: "raw,min,max"};
      if (rest[0] === "raw" || rest[0] === "min" || rest[0] === "max") return s12(score[rest[0]]);
      if (rest[0] === "_count") return E(203);
    }
    if (rest.length === 2 && (rest[0] === "raw" || rest[0] === "min" || rest[0] === "max")) return E(keywordError(rest[1]));
    return E(401);
  }
  function isLeaf12(p) {
    if (p.length === 3 && p[0] === "cmi" && (p[1] === "core" || p[1] === "student_data")) return true;
    return p.length === 2 && p[0] === "cmi" && ["suspend_data", "launch_data", "comments", "comments_from_lms"].indexOf(p[1]) >= 0;
  }
  function get12(cmi, config, name) {
    if (name === "") return E(201);
    var p = parts12(name);
    if (p === null) return E(401);
    var n = p.length, rest, idx, o, i;
    if (p[0] === "cmi") {
      if (n === 2 && p[1] === "_version") return {value: "3.4"};
      if (p[1] === "core") {
        if (n === 3) {
          switch (p[2]) {
            case "_children": return {value: CORE_CHILDREN};
            case "student_id": return {value: config.learner_id};
            case "student_name": return {value: config.learner_name};
            case "lesson_location": return s12(cmi.lesson_location);
            case "credit": return {value: creditText(config.credit)};
            case "lesson_status": return {value: cmi.lesson_status};
            case "entry": return {value: cmi.entry};
            case "total_time": return {value: formatTimespan12(cmi.total_time_cs)};
            case "lesson_mode": return {value: config.mode};
            case "exit": case "session_time": return E(404);
          }
        }
        if (n >= 3 && p[2] === "score") return score12Get(cmi.score, p.slice(3));
      }
      if (n === 2) {
        switch (p[1]) {
          case "suspend_data": return s12(cmi.suspend_data);
          case "launch_data": return s12(config.launch_data);
          case "comments": return s12(cmi.comments);
          case "comments_from_lms": return {value: config.comments_from_lms.map(function (c) { return c.comment; }).join("\n")};
        }
      }
      if (p[1] === "objectives" && n >= 3) {
        if (n === 3 && p[2] === "_children") return {value: "id,score,status"};
        if (n === 3 && p[2] === "_count") return {value: String(cmi.objectives.length)};
        idx = index12(p[2]);
        if (idx === null) return E(401);
        o = at(cmi.objectives, idx);
        if (!o) return E(201);
        rest = p.slice(3);
        if (rest.length === 1 && rest[0] === "id") return s12(o.id);
        if (rest.length >= 1 && rest[0] === "score") return score12Get(o.score, rest.slice(1));
        if (rest.length === 1 && rest[0] === "status") return {value: o.status === null ? "not attempted" : o.status};
        if (rest.length === 2) return E(keywordError(rest[1]));
        return E(401);
      }
      if (p[1] === "student_data" && n === 3) {
        switch (p[2]) {
          case "_children": return {value: "mastery_score,max_time_allowed,time_limit_action"};
          case "mastery_score": return {value: config.mastery_score === null ? "" : String(config.mastery_score)};
          case "max_time_allowed": return s12(config.max_time_allowed);
          case "time_limit_action": return {value: config.time_limit_action ? TLA[config.time_limit_action] : ""};
        }
      }
      if (p[1] === "student_preference" && n === 3) {
        var sp = cmi.student_preference;
        switch (p[2]) {
          case "_children": return {value: "audio,language,speed,text"};
          case "audio": return {value: sp.audio === null ? "0" : sp.audio};
          case "language": return s12(sp.language);
          case "speed": return {value: sp.speed === null ? "0" : sp.speed};
          case "text": return {value: sp.text === null ? "0" : sp.text};
          case "_count": return E(203);
          default: return E(401);
        }
      }
      if (p[1] === "interactions" && n >= 3) {
        if (n === 3 && p[2] === "_children") return {value: INTERACTION_CHILDREN};
        if (n === 3 && p[2] === "_count") return {value: String(cmi.interactions.length)};
        idx = index12(p[2]);
        if (idx === null) return E(401);
        i = at(cmi.interactions, idx);
        if (!i) return E(201);
        rest = p.slice(3);
        if (rest.length === 2 && rest[0] === "objectives" && rest[1] === "_count") return {value: String(i.objectives.length)};
        if (rest.length === 2 && rest[0] === "correct_responses" && rest[1] === "_count") return {value: String(i.correct_responses.length)};
        if (rest.length === 1 && ["id", "time", "type", "weighting", "student_response", "result", "latency"].indexOf(rest[0]) >= 0) return E(404);
        if (rest.length === 3 && (rest[0] === "objectives" || rest[0] === "correct_responses")) return E(404);
        if (rest.length === 2 && rest[1] === "_children") return E(202);
        return E(401);
      }
    }
    if (n >= 2 && p[n - 1] === "_children" && isLeaf12(p.slice(0, n - 1))) return E(202);
    if (n >= 2 && p[n - 1] === "_count" && isLeaf12(p.slice(0, n - 1))) return E(203);
    return E(401);
  }

  function decimal12(value, strict, min, max) {
    if (value === "") return 0;
    var v = parseReal(value);
    if (v === null) return 405;
    if (strict && (v < min || v > max)) return 405;
    return 0;
  }
  function integerIn(value, min, max) {
    if (!/^[+-]?[0-9]+$/.test(value)) return 405;
    var v = parseInt(value, 10);
    return (v >= min && v <= max && Math.abs(v) <= 9223372036854775807) ? 0 : 405;
  }
  function stringMax(value, strict, max) { return strict && charCount(value) > max ? 405 : 0; }
  function identifier12(value, strict) {
    if (value === "" || hasWhitespace(value)) return 405;
    return stringMax(value, strict, 255);
  }
  var STATUS12 = ["passed", "completed", "failed", "incomplete", "browsed"];
  function score12Set(score, rest, value, strict) {
    if (rest.length === 1 && (rest[0] === "raw" || rest[0] === "min" || rest[0] === "max")) {
      var e = decimal12(value, strict, 0, 100);
      if (!e) score[rest[0]] = value;
      return e;
    }
    if (rest.length === 1 && rest[0] === "_children") return 402;
    return 401;
  }
  function set12(cmi, config, name, value) {
    var strict = config.strict, e;
    if (name === "") return 201;
    var p = parts12(name);
    if (p === null) return 401;
    var n = p.length, last = p[n - 1];
    if (last === "_children" || last === "_count" || last === "_version") return 402;
    if (p[0] === "cmi") {
      if (n === 3 && p[1] === "core" && ["student_id", "student_name", "credit", "entry", "total_time", "lesson_mode"].indexOf(p[2]) >= 0) return 403;
      if (n === 2 && (p[1] === "launch_data" || p[1] === "comments_from_lms")) return 403;
      if (n === 3 && p[1] === "student_data") return 403;
      if (n === 3 && p[1] === "core") {
        switch (p[2]) {
          case "lesson_location": e = stringMax(value, strict, 255); if (!e) cmi.lesson_location = value; return e;
          case "lesson_status": if (STATUS12.indexOf(value) < 0) return 405; cmi.lesson_status = value; return 0;
          case "exit": if (["time-out", "suspend", "logout", ""].indexOf(value) < 0) return 405; cmi.exit = value; return 0;
          case "session_time": if (parseTimespan12(value) === null) return 405; cmi.session_time = value; return 0;
        }
      }
      if (n >= 3 && p[1] === "core" && p[2] === "score") return score12Set(cmi.score, p.slice(3), value, strict);
      if (n === 2 && p[1] === "suspend_data") { e = stringMax(value, strict, 4096); if (!e) cmi.suspend_data = value; return e; }
      if (n === 2 && p[1] === "comments") {
        e = stringMax(value, strict, 4096);
        if (!e) cmi.comments = cmi.comments === null ? value : cmi.comments + value;
        return e;
      }
      if (n >= 3 && p[1] === "objectives") return objective12Set(cmi, p, value, strict);
      if (n === 3 && p[1] === "student_preference") {
        var sp = cmi.student_preference;
        switch (p[2]) {
          case "audio": e = integerIn(value, -1, 100); break;
          case "language": e = stringMax(value, strict, 255); break;
          case "speed": e = integerIn(value, -100, 100); break;
          case "text": e = integerIn(value, -1, 1); break;
          default: return 401;
        }
        if (!e) sp[p[2]] = value;
        return e;
      }
      if (n >= 3 && p[1] === "interactions") return interaction12Set(cmi, p, value, strict);
      if (!get12(cmi, config, name).error) return 403;
    }
    return 401;
  }
  function objective12Set(cmi, p, value, strict) {
    var idx = index12(p[2]);
    if (idx === null) return 401;
    if (idx > cmi.objectives.length) return 201;
    var rest = p.slice(3), e;
    if (rest.length === 1 && rest[0] === "id") e = identifier12(value, strict);
    else if (rest.length === 2 && rest[0] === "score" && ["raw", "min", "max"].indexOf(rest[1]) >= 0) e = decimal12(value, strict, 0, 100);
    else if (rest.length === 1 && rest[0] === "status") e = (STATUS12.indexOf(value) < 0 && value !== "not attempted") ? 405 : 0;
    else return 401;
    if (e) return e;
    if (idx === cmi.objectives.length) cmi.objectives.push({id: null, score: {raw: null, min: null, max: null}, status: null});
    var o = cmi.objectives[idx];
    if (rest[0] === "id") o.id = value;
    else if (rest[0] === "score") return score12Set(o.score, rest.slice(1), value, strict);
    else o.status = value;
    return 0;
  }
  function interaction12Set(cmi, p, value, strict) {
    var idx = index12(p[2]);
    if (idx === null) return 401;
    if (idx > cmi.interactions.length) return 201;
    var existing = at(cmi.interactions, idx), kind = existing ? existing.kind : null;
    var rest = p.slice(3), e = 0, m, r0 = rest[0];
    if (rest.length === 1 && r0 === "id") e = identifier12(value, strict);
    else if (rest.length === 3 && r0 === "objectives" && rest[2] === "id") {
      m = index12(rest[1]);
      if (m === null) return 401;
      if (m > (existing ? existing.objectives.length : 0)) return 201;
      e = identifier12(value, strict);
    } else if (rest.length === 1 && r0 === "time") e = isTime12(value) ? 0 : 405;
    else if (rest.length === 1 && r0 === "type") e = parseType12(value) === null ? 405 : 0;
    else if (rest.length === 3 && r0 === "correct_responses" && rest[2] === "pattern") {
      m = index12(rest[1]);
      if (m === null) return 401;
      if (m > (existing ? existing.correct_responses.length : 0)) return 201;
      if (kind !== null && !isValid12(kind, value)) return 405;
    } else if (rest.length === 1 && r0 === "weighting") e = decimal12(value, false, 0, 0);
    else if (rest.length === 1 && r0 === "student_response") {
      if (kind !== null && !isValid12(kind, value)) return 405;
      e = stringMax(value, strict, 255);
    } else if (rest.length === 1 && r0 === "result") {
      e = (["correct", "wrong", "unanticipated", "neutral"].indexOf(value) < 0 && parseReal(value) === null) ? 405 : 0;
    } else if (rest.length === 1 && r0 === "latency") e = parseTimespan12(value) === null ? 405 : 0;
    else return 401;
    if (e) return e;
    if (idx === cmi.interactions.length) cmi.interactions.push({id: null, objectives: [], time: null, kind: null, correct_responses: [], weighting: null, student_response: null, result: null, latency: null});
    var i = cmi.interactions[idx];
    if (r0 === "objectives" || r0 === "correct_responses") {
      m = index12(rest[1]);
      var list = i[r0];
      if (m === list.length) list.push(value); else if (m < list.length) list[m] = value;
    } else if (r0 === "type") i.kind = parseType12(value);
    else i[r0] = value;
    return 0;
  }

  // ---- the API state machine (attempt.rs) ----------------------------------------------------
  function codeOf(text) {
    var t = text.charAt(0) === "+" ? text.slice(1) : text;
    if (!/^[0-9]+$/.test(t)) return null;
    t = t.replace(/^0+(?=.)/, "");
    if (t.length > 5) return null;
    var v = parseInt(t, 10);
    return v <= 65535 ? v : null;
  }
  function messageOf(version, code) {
    var table = version === "scorm12" ? MSG_12 : MSG_2004;
    return code !== null && Object.prototype.hasOwnProperty.call(table, code) ? table[code] : null;
  }

  /** One SCO attempt: `state` is the object `Attempt::to_json` produced (it is changed in place). */
  function Attempt(state) {
    this.s = state;
  }
  Attempt.prototype.version = function () { return this.s.config.version; };
  Attempt.prototype.fail = function (code, diagnostic) {
    this.s.last_error = code;
    this.s.diagnostic = diagnostic;
    return code;
  };
  Attempt.prototype.finish = function (code) {
    if (code === 0) this.s.last_error = 0;
    return {value: code === 0 ? "true" : "false", error: code};
  };
  Attempt.prototype.diagnosticFor = function (requested) {
    var s = this.s, version = this.version();
    var code = requested === "" ? s.last_error : codeOf(requested);
    if (requested !== "" && requested.charAt(0) === "0" && requested !== "0") return "";
    var m = messageOf(version, code);
    if (m === null) return "";
    if (requested === "" && code === s.last_error && s.diagnostic) {
      var text = m + ": " + s.diagnostic;
      return text.length > 255 ? text.slice(0, 255) : text;
    }
    return m;
  };
  Attempt.prototype.startSession = function (now) {
    this.s.state = "running";
    this.s.session_number += 1;
    this.s.session_started_at = now;
  };
  Attempt.prototype.terminate = function () {
    var s = this.s, cmi = s.data;
    if (this.version() === "scorm2004") {
      var d = cmi.session_time === null ? null : parseDuration(cmi.session_time);
      cmi.total_time_cs += d === null ? 0 : d;
      s.suspended = cmi.exit === "suspend" || cmi.nav_request === "suspendAll";
    } else {
      var t = cmi.session_time === null ? null : parseTimespan12(cmi.session_time);
      if (t !== null) cmi.total_time_cs += t;
      var raw = cmi.score.raw === null ? null : parseReal(cmi.score.raw);
      var c = s.config;
      if (c.mastery_score !== null && raw !== null && c.credit === "credit") cmi.lesson_status = raw >= c.mastery_score ? "passed" : "failed";
      else if (cmi.lesson_status === "not attempted") cmi.lesson_status = c.mode === "browse" ? "browsed" : "completed";
      s.suspended = cmi.exit === "suspend";
    }
    cmi.session_time = null;
    s.state = "terminated";
  };

  /** Handles one API call (method names of either version) and returns `{value, error}`. */
  Attempt.prototype.handle = function (method, args, now) {
    var arg0 = args.length > 0 ? String(args[0]) : "", arg1 = args.length > 1 ? String(args[1]) : "";
    var s = this.s, is12 = this.version() === "scorm12", st = s.state, code, r;
    switch (method.replace(/^LMS/, "").replace(/^Finish$/, "Terminate")) {
      case "GetLastError": return {value: String(s.last_error), error: s.last_error};
      case "GetErrorString": {
        var c = codeOf(arg0), m = messageOf(this.version(), c);
        if (!is12 && arg0.charAt(0) === "0" && arg0 !== "0") m = null;
        return {value: m === null ? "" : m, error: s.last_error};
      }
      case "GetDiagnostic": return {value: this.diagnosticFor(arg0), error: s.last_error};
      case "Initialize":
        if (arg0 !== "") code = this.fail(is12 ? 201 : 201, is12 ? "LMSInitialize takes an empty string" : "Initialize takes an empty string");
        else if (is12 && st !== "not_initialized") code = this.fail(101, "already initialized");
        else if (st === "running") code = this.fail(103, "already initialized");
        else if (st === "terminated") code = this.fail(104, "session already terminated");
        else { this.startSession(now); code = 0; }
        return this.finish(code);
      case "Terminate": case "Commit": {
        var finish = method === "Terminate" || method === "LMSFinish";
        if (is12) {
          if (arg0 !== "") code = this.fail(201, "argument must be an empty string");
          else if (st !== "running") code = this.fail(301, "not initialized");
          else { if (finish) this.terminate(); code = 0; }
        } else if (st === "not_initialized") code = this.fail(finish ? 112 : 142, "not initialized");
        else if (st === "terminated") code = this.fail(finish ? 113 : 143, "already terminated");
        else if (arg0 !== "") code = this.fail(201, finish ? "Terminate takes an empty string" : "Commit takes an empty string");
        else { if (finish) this.terminate(); code = 0; }
        return this.finish(code);
      }
      case "GetValue":
        if (is12) r = st !== "running" ? E(301) : get12(s.data, s.config, arg0);
        else if (st === "not_initialized") r = E(122);
        else if (st === "terminated") r = E(123);
        else r = get2004(s.data, s.config, s.navigation || {continue_: "unknown", previous: "unknown", choice: {}, jump: {}}, arg0);
        if (r.error) { this.fail(r.error, (is12 ? "LMSGetValue(" : "GetValue(") + arg0 + ") failed"); return {value: "", error: r.error}; }
        s.last_error = 0;
        return {value: r.value, error: 0};
      case "SetValue":
        if (is12) code = st !== "running" ? 301 : set12(s.data, s.config, arg0, arg1);
        else if (st === "not_initialized") code = 132;
        else if (st === "terminated") code = 133;
        else code = set2004(s.data, arg0, arg1);
        if (code) { this.fail(code, (is12 ? "LMSSetValue(" : "SetValue(") + arg0 + ") failed"); return {value: "false", error: code}; }
        s.last_error = 0;
        return {value: "true", error: 0};
    }
    return {value: "", error: is12 ? 101 : 101};
  };

  var api = {Attempt: Attempt, parseReal: parseReal, parseDuration: parseDuration, formatDuration: formatDuration,
    isTime: isTime, isLanguage: isLanguage, isIdentifier: isIdentifier, evaluatedCompletion: evaluatedCompletion,
    evaluatedSuccess: evaluatedSuccess};
  if (typeof module === "object" && module.exports) module.exports = api;
  else root.LmsRte = api;
})(typeof window !== "undefined" ? window : this);

//! The expression half of the parser: precedence levels from assignment down to primaries
//! (literals, names, calls, `new`, list and map literals), Groovy's string interpolation.

use super::ast::{BinOp, Expr, Piece, Type};
use super::lex::{Tok, tokenize};
use super::parse::{MAX_DEPTH, Parser, REFUSED_KEYWORDS, type_of};
use super::value::Value;
use super::{Dialect, ScriptError, names};

impl Parser {
    pub(super) fn paren_expr(&mut self) -> Result<Expr, ScriptError> {
        self.expect("(")?;
        self.depth += 1;
        let e = self.expr()?;
        self.depth -= 1;
        self.expect(")")?;
        Ok(e)
    }

    /// The next token is a binary operator on this statement (not after a line break that ends
    /// the statement).
    fn op_here(&self, op: &str) -> bool {
        let t = &self.toks[self.pos];
        matches!(t.tok, Tok::Op(o) if o == op) && (self.depth > 0 || !t.newline_before)
    }

    pub(super) fn expr(&mut self) -> Result<Expr, ScriptError> {
        self.nest += 1;
        let e = self.assignment();
        self.nest -= 1;
        e
    }

    fn assignment(&mut self) -> Result<Expr, ScriptError> {
        if self.nest > MAX_DEPTH {
            return Err(self.refuse("expressions nested this deep"));
        }
        let target = self.ternary()?;
        for (op, bin) in [
            ("=", None),
            ("+=", Some(BinOp::Add)),
            ("-=", Some(BinOp::Sub)),
            ("*=", Some(BinOp::Mul)),
            ("/=", Some(BinOp::Div)),
            ("%=", Some(BinOp::Rem)),
        ] {
            if self.op_here(op) {
                if !matches!(
                    target,
                    Expr::Name(_) | Expr::Member { .. } | Expr::Index(..)
                ) {
                    return Err(ScriptError::syntax(self.line(), "cannot assign to this"));
                }
                self.next();
                self.depth += 1;
                let value = self.expr();
                self.depth -= 1;
                return Ok(Expr::Assign {
                    target: Box::new(target),
                    op: bin,
                    value: Box::new(value?),
                });
            }
        }
        for op in ["<<=", ">>=", ">>>=", "**", "=~", "->", "::", "<<", ">>"] {
            if self.is_op(op) {
                return Err(self.refuse(&format!("'{op}'")));
            }
        }
        Ok(target)
    }

    fn ternary(&mut self) -> Result<Expr, ScriptError> {
        let c = self.or()?;
        if self.op_here("?:") {
            self.next();
            let b = self.ternary()?;
            return Ok(Expr::Elvis(Box::new(c), Box::new(b)));
        }
        if self.op_here("?") {
            self.next();
            self.depth += 1;
            let a = self.ternary();
            self.depth -= 1;
            let a = a?;
            self.expect(":")?;
            let b = self.ternary()?;
            return Ok(Expr::Cond(Box::new(c), Box::new(a), Box::new(b)));
        }
        Ok(c)
    }

    fn or(&mut self) -> Result<Expr, ScriptError> {
        let mut l = self.and()?;
        while self.op_here("||") {
            self.next();
            l = Expr::Or(Box::new(l), Box::new(self.and()?));
        }
        Ok(l)
    }

    fn and(&mut self) -> Result<Expr, ScriptError> {
        let mut l = self.equality()?;
        while self.op_here("&&") {
            self.next();
            l = Expr::And(Box::new(l), Box::new(self.equality()?));
        }
        Ok(l)
    }

    fn binary_level(
        &mut self,
        ops: &[(&str, BinOp)],
        next: fn(&mut Parser) -> Result<Expr, ScriptError>,
    ) -> Result<Expr, ScriptError> {
        let mut l = next(self)?;
        'outer: loop {
            for (op, bin) in ops {
                if self.op_here(op) {
                    self.next();
                    let r = next(self)?;
                    l = Expr::Binary(*bin, Box::new(l), Box::new(r));
                    continue 'outer;
                }
            }
            return Ok(l);
        }
    }

    fn equality(&mut self) -> Result<Expr, ScriptError> {
        self.binary_level(
            &[
                ("===", BinOp::StrictEq),
                ("!==", BinOp::StrictNe),
                ("==", BinOp::Eq),
                ("!=", BinOp::Ne),
            ],
            Parser::relational,
        )
    }

    fn relational(&mut self) -> Result<Expr, ScriptError> {
        let mut l = self.binary_level(
            &[
                ("<=", BinOp::Le),
                (">=", BinOp::Ge),
                ("<", BinOp::Lt),
                (">", BinOp::Gt),
            ],
            Parser::additive,
        )?;
        // Groovy's `x as Integer`.
        while self.is_word("as") && !self.toks[self.pos].newline_before {
            self.next();
            let name = self.ident()?;
            let Some(ty) = type_of(&name) else {
                return Err(self.refuse(&format!("'as {name}'")));
            };
            l = Expr::Cast(ty, Box::new(l));
        }
        if self.is_word("instanceof") || self.is_word("in") && self.dialect != Dialect::Java {
            let w = self.ident()?;
            return Err(self.refuse(&format!("'{w}'")));
        }
        Ok(l)
    }

    fn additive(&mut self) -> Result<Expr, ScriptError> {
        self.binary_level(
            &[("+", BinOp::Add), ("-", BinOp::Sub)],
            Parser::multiplicative,
        )
    }

    fn multiplicative(&mut self) -> Result<Expr, ScriptError> {
        self.binary_level(
            &[("*", BinOp::Mul), ("/", BinOp::Div), ("%", BinOp::Rem)],
            Parser::unary,
        )
    }

    fn unary(&mut self) -> Result<Expr, ScriptError> {
        if self.eat("!") {
            return Ok(Expr::Not(Box::new(self.unary()?)));
        }
        if self.eat("-") {
            return Ok(match self.unary()? {
                Expr::Lit(Value::Int(n)) => Expr::Lit(Value::Int(-n)),
                Expr::Lit(Value::Num(n)) => Expr::Lit(Value::Num(-n)),
                e => Expr::Neg(Box::new(e)),
            });
        }
        if self.eat("+") {
            return Ok(Expr::Cast(Type::Num, Box::new(self.unary()?)));
        }
        for (op, delta) in [("++", 1), ("--", -1)] {
            if self.eat(op) {
                let target = self.unary()?;
                return Ok(Expr::IncDec {
                    target: Box::new(target),
                    delta,
                    prefix: true,
                });
            }
        }
        // A cast: `(int) x`, `(String) y`.
        if self.is_op("(")
            && matches!(self.peek_at(1), Tok::Ident(t) if type_of(t).is_some() && t != "var")
            && matches!(self.peek_at(2), Tok::Op(")"))
            && !matches!(self.peek_at(3), Tok::Op(_) | Tok::End)
        {
            self.next();
            let name = self.ident()?;
            self.next();
            let ty = type_of(&name).unwrap_or(Type::Any);
            return Ok(Expr::Cast(ty, Box::new(self.unary()?)));
        }
        self.postfix()
    }

    fn args(&mut self) -> Result<Vec<Expr>, ScriptError> {
        self.expect("(")?;
        self.depth += 1;
        let mut args = Vec::new();
        while !self.is_op(")") {
            args.push(self.expr()?);
            if !self.eat(",") {
                break;
            }
        }
        self.depth -= 1;
        self.expect(")")?;
        if self.is_op("{") && !self.toks[self.pos].newline_before {
            return Err(self.refuse("closures ('{ … }' after a call)"));
        }
        Ok(args)
    }

    fn postfix(&mut self) -> Result<Expr, ScriptError> {
        let mut e = self.primary()?;
        loop {
            // A member access may begin the next line (a chained call); nothing else may.
            let safe = self.is_op("?.");
            if self.is_op(".") || safe {
                self.next();
                let name = self.ident()?;
                if self.is_op("(") {
                    let args = self.args()?;
                    e = Expr::Call {
                        obj: Some(Box::new(e)),
                        name,
                        args,
                        safe,
                    };
                } else if self.is_op("{") && !self.toks[self.pos].newline_before {
                    return Err(self.refuse(&format!("closures ('.{name} {{ … }}')")));
                } else {
                    e = Expr::Member {
                        obj: Box::new(e),
                        name,
                        safe,
                    };
                }
            } else if self.op_here("[") {
                self.next();
                self.depth += 1;
                let idx = self.expr();
                self.depth -= 1;
                let idx = idx?;
                self.expect("]")?;
                e = Expr::Index(Box::new(e), Box::new(idx));
            } else if self.op_here("++") || self.op_here("--") {
                let delta = if self.next() == Tok::Op("++") { 1 } else { -1 };
                e = Expr::IncDec {
                    target: Box::new(e),
                    delta,
                    prefix: false,
                };
            } else {
                return Ok(e);
            }
        }
    }

    fn primary(&mut self) -> Result<Expr, ScriptError> {
        let line = self.line();
        match self.next() {
            Tok::Int(n) => Ok(Expr::Lit(Value::Int(n))),
            Tok::Num(n) => Ok(Expr::Lit(Value::Num(n))),
            Tok::Str { text, interpolate } => {
                if interpolate && self.dialect == Dialect::Groovy {
                    interpolated(&text, line)
                } else {
                    Ok(Expr::Lit(Value::Str(text.replace("\\$", "$").into())))
                }
            }
            Tok::Op("(") => {
                self.depth += 1;
                let e = self.expr();
                self.depth -= 1;
                let e = e?;
                self.expect(")")?;
                Ok(e)
            }
            Tok::Op("[") => {
                self.depth += 1;
                let mut items = Vec::new();
                let mut map = Vec::new();
                if self.is_op(":") && matches!(self.peek_at(1), Tok::Op("]")) {
                    self.next();
                    self.depth -= 1;
                    self.next();
                    return Ok(Expr::Map(Vec::new()));
                }
                while !self.is_op("]") {
                    // Groovy map literal `[a: 1, "b": 2]`.
                    if matches!(self.peek(), Tok::Ident(_) | Tok::Str { .. })
                        && matches!(self.peek_at(1), Tok::Op(":"))
                    {
                        let key = match self.next() {
                            Tok::Ident(k) | Tok::Str { text: k, .. } => k,
                            _ => String::new(),
                        };
                        self.next();
                        map.push((key, self.expr()?));
                    } else {
                        items.push(self.expr()?);
                    }
                    if !self.eat(",") {
                        break;
                    }
                }
                self.depth -= 1;
                self.expect("]")?;
                if !map.is_empty() && !items.is_empty() {
                    return Err(ScriptError::syntax(line, "a list mixed with map entries"));
                }
                Ok(if map.is_empty() {
                    Expr::List(items)
                } else {
                    Expr::Map(map)
                })
            }
            Tok::Op("{") if self.dialect == Dialect::JavaScript => {
                self.depth += 1;
                let mut map = Vec::new();
                while !self.is_op("}") {
                    let key = match self.next() {
                        Tok::Ident(k) | Tok::Str { text: k, .. } => k,
                        _ => return Err(self.unexpected("a property name")),
                    };
                    self.expect(":")?;
                    map.push((key, self.expr()?));
                    if !self.eat(",") {
                        break;
                    }
                }
                self.depth -= 1;
                self.expect("}")?;
                Ok(Expr::Map(map))
            }
            Tok::Ident(word) => self.name_or_call(word, line),
            Tok::Op(o) => {
                self.pos -= 1;
                if matches!(o, "{" | "->") {
                    return Err(self.refuse("closures"));
                }
                Err(self.unexpected("a value"))
            }
            Tok::End => Err(ScriptError::syntax(
                line,
                "expected a value, found the end of the script",
            )),
        }
    }

    fn name_or_call(&mut self, word: String, line: u32) -> Result<Expr, ScriptError> {
        match word.as_str() {
            "true" => return Ok(Expr::Lit(Value::Bool(true))),
            "false" => return Ok(Expr::Lit(Value::Bool(false))),
            "null" | "undefined" => return Ok(Expr::Lit(Value::Null)),
            "new" => {
                let class = self.qualified_class()?;
                if !names::is_constructible(&class) {
                    return Err(ScriptError::new(line, &format!("'new {}'", self.last_path)));
                }
                if self.is_op("[") {
                    return Err(ScriptError::new(
                        line,
                        &format!("'new {class}[…]' (arrays)"),
                    ));
                }
                let args = if self.is_op("(") {
                    self.args()?
                } else {
                    Vec::new()
                };
                return Ok(Expr::New { class, args });
            }
            w if REFUSED_KEYWORDS.contains(&w) => {
                return Err(ScriptError::new(line, &format!("'{w}'")));
            }
            _ => {}
        }
        // A fully qualified class: `java.util.UUID`, `org.apache.jmeter.util.JMeterUtils`.
        let word = if is_package_root(&word) && self.is_op(".") {
            self.pos -= 1;
            let class = self.qualified_class()?;
            if !names::is_class(&class) {
                return Err(ScriptError::new(line, &format!("'{}'", self.last_path)));
            }
            class
        } else {
            word
        };
        if self.is_op("(") {
            let args = self.args()?;
            return Ok(Expr::Call {
                obj: None,
                name: word,
                args,
                safe: false,
            });
        }
        Ok(Expr::Name(word))
    }
}

/// First segments of Java package names.
fn is_package_root(w: &str) -> bool {
    matches!(
        w,
        "java" | "javax" | "groovy" | "org" | "com" | "net" | "jdk" | "sun"
    )
}

impl Parser {
    /// A class name, maybe qualified (`java.util.Random`): its last segment. The whole path is
    /// kept in `last_path` for messages.
    fn qualified_class(&mut self) -> Result<String, ScriptError> {
        let mut path = self.ident()?;
        while self.is_op(".") && matches!(self.peek_at(1), Tok::Ident(_)) {
            let is_class = path
                .rsplit('.')
                .next()
                .is_some_and(|s| s.chars().next().is_some_and(char::is_uppercase));
            if is_class {
                break;
            }
            self.next();
            path.push('.');
            path.push_str(&self.ident()?);
        }
        let class = path.rsplit('.').next().unwrap_or_default().to_string();
        self.last_path = path;
        Ok(class)
    }
}

/// A Groovy `"…"` string: `${expr}` and `$name(.name)*` parts.
pub(super) fn interpolated(text: &str, line: u32) -> Result<Expr, ScriptError> {
    if !text.contains('$') {
        return Ok(Expr::Lit(Value::Str(text.into())));
    }
    let mut pieces = Vec::new();
    let mut buf = String::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\\' && chars.get(i + 1) == Some(&'$') {
            buf.push('$');
            i += 2;
            continue;
        }
        if c == '$' && chars.get(i + 1) == Some(&'{') {
            let start = i + 2;
            let mut depth = 1;
            let mut j = start;
            while j < chars.len() {
                match chars[j] {
                    '{' => depth += 1,
                    '}' => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
            if j >= chars.len() {
                return Err(ScriptError::syntax(line, "'${' is not closed in a string"));
            }
            let inner: String = chars[start..j].iter().collect();
            let mut p = Parser {
                toks: tokenize(&inner).map_err(|e| e.at_line(line))?,
                pos: 0,
                depth: 1,
                nest: 0,
                dialect: Dialect::Groovy,
                last_path: String::new(),
            };
            let e = p.expr().map_err(|e| e.at_line(line))?;
            if p.peek() != &Tok::End {
                return Err(ScriptError::syntax(
                    line,
                    &format!("bad '${{{inner}}}' in a string"),
                ));
            }
            if !buf.is_empty() {
                pieces.push(Piece::Text(std::mem::take(&mut buf)));
            }
            pieces.push(Piece::Expr(e));
            i = j + 1;
            continue;
        }
        if c == '$'
            && chars
                .get(i + 1)
                .is_some_and(|c| c.is_alphabetic() || *c == '_')
        {
            let mut j = i + 1;
            let mut e: Option<Expr> = None;
            loop {
                let s = j;
                while j < chars.len() && (chars[j].is_alphanumeric() || chars[j] == '_') {
                    j += 1;
                }
                let name: String = chars[s..j].iter().collect();
                e = Some(match e {
                    None => Expr::Name(name),
                    Some(obj) => Expr::Member {
                        obj: Box::new(obj),
                        name,
                        safe: false,
                    },
                });
                if chars.get(j) == Some(&'.') && chars.get(j + 1).is_some_and(|c| c.is_alphabetic())
                {
                    j += 1;
                } else {
                    break;
                }
            }
            if !buf.is_empty() {
                pieces.push(Piece::Text(std::mem::take(&mut buf)));
            }
            pieces.extend(e.map(Piece::Expr));
            i = j;
            continue;
        }
        buf.push(c);
        i += 1;
    }
    if !buf.is_empty() {
        pieces.push(Piece::Text(buf));
    }
    Ok(Expr::Interp(pieces))
}

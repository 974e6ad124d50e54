#@ message: plain.eml
require "foreverypart";
break;

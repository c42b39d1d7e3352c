"""Real-ish text used by the filter tests: good documents of each kind, and junk.

The Chinese and Japanese literary paragraphs are the openings of Lu Xun's 故乡 (1921) and
Natsume Soseki's 吾輩は猫である (1905), both in the public domain.
"""

ZH_LITERATURE = (
    "我冒了严寒，回到相隔二千余里，别了二十余年的故乡去。\n"
    "时候既然是深冬；渐近故乡时，天气又阴晦了，冷风吹进船舱中，呜呜的响，从篷隙向外一望，"
    "苍黄的天底下，远近横着几个萧索的荒村，没有一些活气。我的心禁不住悲凉起来了。\n"
    "阿！这不是我二十年来时时记得的故乡？\n"
    "我所记得的故乡全不如此。我的故乡好得多了。但要我记起他的美丽，说出他的佳处来，"
    "却又没有影像，没有言辞了。仿佛也就如此。于是我自己解释说：故乡本也如此，"
    "——虽然没有进步，也未必有如我所感的悲凉，这只是我自己心情的改变罢了，"
    "因为我这次回乡，本没有什么好心绪。\n"
)

ZH_DOCS = (
    "安装\n\n"
    "本程序需要 Python 3.10 或更高版本。我们建议在虚拟环境中安装，这样不会影响系统中的其他软件包。"
    "首先创建一个新的虚拟环境，然后使用 pip 安装本软件包及其依赖。安装完成后，可以运行下面的命令检查版本号。\n\n"
    "配置文件使用 YAML 格式，每个键都有默认值。如果某个键的值不合法，程序会给出一行错误信息，"
    "并指出出错的键名，而不会打印冗长的调用栈。你也可以用命令行参数覆盖配置文件中的设置。\n\n"
    "- 输入：JSONL、Parquet 或文本文件夹\n"
    "- 输出：按语言和来源统计的 Parquet 分片\n"
    "- 日志：每个阶段的处理速度和被丢弃文档的原因\n"
)

JA_LITERATURE = (
    "吾輩は猫である。名前はまだ無い。\n"
    "どこで生れたかとんと見当がつかぬ。何でも薄暗いじめじめした所でニャーニャー泣いていた事だけは記憶している。"
    "吾輩はここで始めて人間というものを見た。しかもあとで聞くとそれは書生という人間中で一番獰悪な種族であったそうだ。"
    "この書生というのは時々我々を捕えて煮て食うという話である。しかしその当時は何という考もなかったから別段恐しいとも思わなかった。"
    "ただ彼の掌に載せられてスーと持ち上げられた時何だかフワフワした感じがあったばかりである。\n"
)

JA_DOCS = (
    "概要\n\n"
    "このコマンドは、指定されたファイルの内容を読み込み、各行の先頭に行番号を付けて標準出力に書き出します。"
    "ファイルが指定されない場合、または「-」が指定された場合は、標準入力から読み込みます。\n\n"
    "オプション\n\n"
    "-b  空行以外の行にだけ番号を付けます。\n"
    "-n  すべての行に番号を付けます。\n"
    "-s  連続する空行を一つにまとめます。\n\n"
    "終了ステータスは、正常に終了した場合は 0、エラーが発生した場合は 0 以外の値になります。"
    "詳しい説明は、インストールされているマニュアルを参照してください。\n"
)

EN_DOCS = """Installing the package

The library requires Python 3.10 or later. We recommend installing it into a virtual
environment so that it does not interfere with the packages of your system. Create the
environment first, then install the package and its dependencies with pip.

Options

- `--output DIR`: where the shards are written (created if missing)
- `--workers N`: how many processes to run
- `--config FILE`: a YAML file with the pipeline settings

## Configuration

Every key of the configuration file has a default, so an empty file is a valid
configuration. When a value is wrong, the program prints one line that names the key and
says what was expected, instead of a long traceback. Values given on the command line
override the file.
"""

EN_LITERATURE = """It was the best of times, it was the worst of times, it was the age of
wisdom, it was the age of foolishness, it was the epoch of belief, it was the epoch of
incredulity, it was the season of Light, it was the season of Darkness, it was the spring of
hope, it was the winter of despair, we had everything before us, we had nothing before us,
we were all going direct to Heaven, we were all going direct the other way--in short, the
period was so far like the present period, that some of its noisiest authorities insisted
on its being received, for good or for evil, in the superlative degree of comparison only.

There were a king with a large jaw and a queen with a plain face, on the throne of England;
there were a king with a large jaw and a queen with a fair face, on the throne of France.
In both countries it was clearer than crystal to the lords of the State preserves of loaves
and fishes, that things in general were settled for ever.
"""

PY_CODE = '''import json
from pathlib import Path


def load_records(path: Path) -> list[dict]:
    """Read one JSON object per line, skipping blank lines."""
    records = []
    with path.open(encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            records.append(json.loads(line))
    return records


class Counter:
    def __init__(self) -> None:
        self.counts: dict[str, int] = {}

    def add(self, key: str) -> None:
        self.counts[key] = self.counts.get(key, 0) + 1

    def top(self, n: int = 10) -> list[tuple[str, int]]:
        return sorted(self.counts.items(), key=lambda kv: -kv[1])[:n]
'''

C_CODE = """#include <stdio.h>
#include <stdlib.h>

static int compare(const void *a, const void *b)
{
    int x = *(const int *)a;
    int y = *(const int *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    int n = argc - 1;
    int *values = malloc(n * sizeof(int));
    if (values == NULL) {
        fprintf(stderr, "out of memory\\n");
        return 1;
    }
    for (int i = 0; i < n; i++) {
        values[i] = atoi(argv[i + 1]);
    }
    qsort(values, n, sizeof(int), compare);
    for (int i = 0; i < n; i++) {
        printf("%d\\n", values[i]);
    }
    free(values);
    return 0;
}
"""

MATH_DOC = r"""The quadratic formula

For a quadratic equation $ax^2 + bx + c = 0$ with $a \neq 0$, the solutions are
$$x = \frac{-b \pm \sqrt{b^2 - 4ac}}{2a}.$$
The quantity $\Delta = b^2 - 4ac$ is called the discriminant. When $\Delta > 0$ there are
two distinct real roots, when $\Delta = 0$ there is exactly one, and when $\Delta < 0$ the
two roots are complex conjugates. The sum of the roots is $-b/a$ and their product is
$c/a$, which follows from expanding $a(x - x_1)(x - x_2)$ and comparing coefficients.
For every $x \in \mathbb{R}$ we also have ∑ᵢ xᵢ² ≥ 0, with equality only at the origin.
"""

NAV_MENU = """Home
Products
Solutions
Pricing
About us
Careers
Blog
Contact
Login
Sign up
English
Deutsch
Français
Support center
Partners
Newsroom
Events
Webinars
Customer stories
Documentation
Status
Security
Sitemap
"""

BOILERPLATE = """We use cookies to improve your experience on our site. By continuing you accept our cookie policy.
Accept all cookies
Privacy Policy | Terms of Use | Cookie settings
Follow us on Twitter, Facebook and Instagram for the latest news.
Subscribe to our newsletter and never miss an update from our team of editors.
Copyright © 2024 Example Media Group. All rights reserved.
Skip to main content
Back to top
Read more articles like this one in our archive of stories from around the world.
Share this page with your friends and colleagues by e-mail.
"""

RUBY_CODE = """# frozen_string_literal: true

module Bundler
  class CLI::Open
    attr_reader :options, :name

    def initialize(options, name)
      @options = options
      @name = name
    end

    # Opens the gem's source directory in the user's editor.
    def run
      editor = [ENV["BUNDLER_EDITOR"], ENV["VISUAL"], ENV["EDITOR"]].find {|e| !e.nil? && !e.empty? }
      return Bundler.ui.info("To open a bundled gem, set $EDITOR or $BUNDLER_EDITOR") unless editor
      path = Bundler::CLI::Common.select_spec(name, :regex_match).full_gem_path
      Dir.chdir(path) do
        command = Shellwords.split(editor) << path
        Bundler.with_original_env do
          system(*command)
        end || Bundler.ui.info("Could not run '#{command.join(" ")}'")
      end
    end
  end
end
"""

PERL_CODE = """package CPAN::LWP::UserAgent;
use strict;
use vars qw(@ISA $USER $PASSWD $SETUPDONE);
use CPAN::HTTP::Credentials;
# we delay requiring LWP::UserAgent and setting up inheritance until we need it

$CPAN::LWP::UserAgent::VERSION = "1.9601";

sub config {
    return if $SETUPDONE;
    if ($CPAN::META->has_usable('LWP::UserAgent')) {
        require LWP::UserAgent;
        @ISA = qw(Exporter LWP::UserAgent);
        $SETUPDONE++;
    } else {
        $CPAN::Frontend->mywarn("  LWP::UserAgent not available\\n");
    }
}

sub no_proxy {
    my ( $self, $no_proxy ) = @_;
    return $self->SUPER::no_proxy( split(',',$no_proxy) );
}
"""

# Quotations without final full stops, each followed by its author (an anthology).
QUOTES_PT = """Não há segredo melhor guardado do que aquele que todo mundo adivinha

--George Bernard Shaw

Não importa o quão nova uma idéia é; o que importa é quão nova ela se torna com o tempo

--Elias Canetti

Nenhum homem pode compreender porque uma mulher prefere uma boa reputação a um pouco de diversão

--Helen Rowland

Nenhum pássaro voa alto demais, se voa com suas próprias asas e não com as dos outros

--William Blake
"""

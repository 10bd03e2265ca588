"""Yuki (a translator from Kyoto in Manchester) and Frank (a retired carpenter, 72)."""

YUKI = """
##
>work1| I translated a forty page manual for an industrial rice cooker today. There is a whole chapter on the correct angle to hold the paddle.
<Haha, is that your job? Translating?
>work2| Japanese to English, freelance, mostly technical stuff and the occasional video game. The games pay worse but they're more fun.
##
>home1| Manchester has rained for nine days in a row. In Kyoto at least the rain comes in one big season and then leaves politely.
<Haha, you're from Kyoto?
>home2| Born and raised, near the old textile district. My mum still lives in the same house, she sends me boxes of green tea and worry.
##
>knit1| I've knitted a whole jumper! The sleeves are different lengths but I'm calling it a design choice.
<That's impressive, I can barely sew a button.
>knit2| There's a knitting group in the café on Thursdays, mostly retired ladies who swear a lot. They're my favourite people in this city.
##
>mum1| My mum goes in for heart surgery next Monday. A valve. I've booked a flight home, I'll stay three weeks to help after.
<Oh Yuki, I hope it all goes smoothly.
>mum2| She told me not to come, which in our family means please come.
##
>mum3| Mum's operation went well. She's already complaining about the hospital rice, which is how I know she's fine.
<That's such a relief!
>mum4| I'm sleeping on the floor of her room on a futon. The cherry trees outside have just started to bloom, it feels like a gift.
##
>drive1| I failed my driving test this morning. I stalled at a roundabout and the examiner sighed like my dad.
<Oh no! Will you try again?
>drive2| Yes, in six weeks. I cycle everywhere but I want to be able to drive Mum around when she visits.
##
>bike| Someone stole my bike from outside the library. I had it for five years, it had a basket and a bell shaped like a frog.
<Ugh, that's awful.
>bike2| I've bought a secondhand one, it's orange. I'm already attached to it, which is foolish.
##
>game| The video game I translated last year just came out in English! My name is in the credits, very small, after the catering.
<That's so cool! What's the game?
>game2| A farming game where you're a ghost who runs a tea shop. It's very strange. My nephew says it's "fine".
##
>drive3| I passed! Second time. No stalling, one very dramatic parallel park.
<Congratulations!!
##
>mum5| Mum is coming to visit Manchester in October, her first time in England. I'm driving her to the Lake District, I have been practising the hills.
<She'll love it.
##
>knit3| I'm knitting Mum a scarf for the visit, in the purple she likes. The Thursday ladies keep correcting my tension.
<That's lovely, she'll treasure it.
##
>mum6| Mum loved the lakes but thought the scones were too dry. She's gone home with three kilos of Cadbury's in her suitcase.

? single-hop | What does Yuki do for work? | work1 work2
? single-hop | Which languages does Yuki translate between? | work2
? single-hop | Where is Yuki from? | home1 home2
? single-hop | What does Yuki's mother send her? | home2
? single-hop | What did Yuki knit first? | knit1
? single-hop | When does Yuki's knitting group meet? | knit2
? single-hop | What kind of surgery did Yuki's mother need? | mum1
? single-hop | Why did Yuki fail her driving test? | drive1
? single-hop | Why does Yuki want to drive? | drive2
? single-hop | What was Yuki's stolen bike like? | bike
? single-hop | What is the game Yuki translated about? | game2
? single-hop | Where is Yuki's name in the game? | game
? single-hop | What colour is the scarf Yuki is making? | knit3
? single-hop | What did Yuki's mother take home from England? | mum6
? single-hop | Where did Yuki sleep in the hospital? | mum4
? temporal | When did Yuki fail her driving test? | drive1
? temporal | When was Yuki's mother's heart operation? | mum1
? temporal | When is Yuki's mother visiting England? | mum5
? temporal | When did Yuki's bike get stolen? | bike
? multi-hop | How did Yuki's mother's surgery go, from start to end? | mum1 mum3
? multi-hop | How did Yuki learn to drive? | drive1 drive3
? multi-hop | Where did Yuki take her mother in England and what did she think? | mum5 mum6
? multi-hop | What has Yuki made for other people? | knit3 game
? multi-hop | How does Yuki get around the city? | drive2 bike2
? open-domain | Would Yuki understand a Japanese film without subtitles? | home2 work2
? open-domain | Is Yuki close to her mother? | mum2 mum4
? open-domain | Does Yuki enjoy the weather in England? | home1
? open-domain | Would Yuki like a gift of yarn? | knit1 knit2
? open-domain | Is Yuki likely to have a car now? | drive3 mum5
"""

FRANK = """
##
>wood1| Made another birdhouse this morning, a little Swiss chalet with a copper roof. That's eleven in the garden now. Dot says the birds have better houses than us.
<Haha, you made it yourself?
>wood2| Forty-three years a carpenter, love. Retired, but my hands don't know that yet. The shed is my office now.
##
>dot1| Dot won the club singles at the bowls on Saturday. Seventy-four and she beat a woman half her age, then bought the whole bar a sherry.
<Go Dot! Is Dot your wife?
>dot2| Fifty-one years married in August. She's the brains, I'm the muscle, though the muscle is mostly gone.
##
>heart1| Had a bit of a turn last month, they put a stent in my heart. The doctor says no more bacon sandwiches. I say we'll see.
<Frank! Are you alright now?
>heart2| Right as rain, just slower. I walk round the park every morning now, doctor's orders, Dot times me.
##
>navy1| My old shipmate Ray rang out of the blue yesterday. Haven't heard from him since 1979. We were on HMS Ark Royal together as lads.
<You were in the Navy?
>navy2| Six years, a chippy on board, fixing everything that broke at sea. Ray and I are going to meet up in Plymouth, if our knees allow.
##
>grandkids1| The grandkids came for the half term. Ollie wanted to use the saw so I let him make a bird box. He hit his thumb twice and was very proud of the bruise.
<Haha, a carpenter in the making!
>grandkids2| He's eight. His sister Poppy is more of a reader, she sat in the shed with a book and supervised.
##
>fish| Went fishing on the canal with my neighbour Des on Tuesday, caught a perch the size of a teaspoon. Put it back with an apology.
<Haha. Do you go often?
##
>plymouth| Met Ray in Plymouth! We sat on the Hoe for four hours and drank tea. He's got a new hip and I've got a stent, we compared scars like schoolboys.
<That's wonderful Frank.
>plymouth2| We both cried a bit about the lads we lost. Then we argued about football.
##
>bench| Building a bench for the church garden, in oak, with a plaque for Mrs Hardy who used to do the flowers. Took me three weeks.
<That's a kind thing to do.
##
>heart3| Check-up at the cardiologist today. All good, he said my heart's like a man of sixty. Dot made me a bacon sandwich to celebrate. Don't tell the doctor.
<Haha, your secret's safe.
##
>anniversary| Fifty-one years with Dot yesterday. I made her a jewellery box from the walnut tree that came down in the storm. She cried and then told me the lid squeaks.
<That's so lovely, happy anniversary!
##
>grandkids3| Ollie has asked for his own set of chisels for Christmas. Dot says he's too young. I've already ordered them.
<Haha, grandad wins.
##
>dot3| Dot's had a fall on the ice. A broken wrist, she's furious she'll miss the bowls season. I'm doing the cooking, God help us both.

? single-hop | What was Frank's profession? | wood2
? single-hop | How many birdhouses are in Frank's garden? | wood1
? single-hop | What sport does Frank's wife play? | dot1
? single-hop | How long has Frank been married? | dot2 anniversary
? single-hop | What heart treatment did Frank have? | heart1
? single-hop | What does Frank do every morning now? | heart2
? single-hop | Which ship did Frank serve on? | navy1
? single-hop | What did Frank do in the Navy? | navy2
? single-hop | How old is Ollie? | grandkids2
? single-hop | What does Poppy prefer to do? | grandkids2
? single-hop | What did Frank catch on the canal? | fish
? single-hop | What wood is the church bench made from? | bench
? single-hop | Who is the church bench for? | bench
? single-hop | What did Frank make for his anniversary? | anniversary
? single-hop | What happened to Dot on the ice? | dot3
? temporal | When did Ray call Frank? | navy1
? temporal | When did Frank go fishing with Des? | fish
? temporal | When did Dot win the bowls singles? | dot1
? temporal | When was Frank and Dot's anniversary? | anniversary
? temporal | When did Frank have his check-up with the cardiologist? | heart3
? multi-hop | How is Frank's health after his heart problem? | heart1 heart2 heart3
? multi-hop | How did Frank reconnect with his old friend from the Navy? | navy1 plymouth
? multi-hop | How is Frank passing on woodworking to his grandson? | grandkids1 grandkids3
? multi-hop | What has Frank built this year? | wood1 bench anniversary
? multi-hop | How has Dot's year gone? | dot1 dot3
? open-domain | Is Frank following his doctor's advice about food? | heart1 heart3
? open-domain | Would Frank enjoy a woodworking show? | wood2 bench
? open-domain | Is Frank a veteran? | navy2
? open-domain | Is Dot still active for her age? | dot1
? open-domain | Would Ollie like a toolbox as a present? | grandkids1 grandkids3
"""
